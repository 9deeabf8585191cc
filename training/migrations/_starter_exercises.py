"""The shared starter library: our own short descriptions, frozen here for migration 0002.

One line per exercise: name | category | equipment | primary muscles | secondary
muscles | description | cues separated by ";".
"""

STARTER_LIBRARY = """
Back Squat|strength|barbell|quads,glutes|hamstrings,lower_back,abs|Bar on the upper back, sit down between the heels and stand back up.|Brace before each rep;Knees track over the toes;Drive the floor away
Front Squat|strength|barbell|quads|glutes,abs,upper_back|Bar resting on the front of the shoulders, torso kept tall through a deep squat.|Elbows high;Stay upright;Sit straight down
Goblet Squat|strength|kettlebell|quads,glutes|abs|A squat holding one bell at the chest, a friendly way to learn depth.|Hold the bell close;Elbows inside the knees;Chest proud
Box Squat|strength|barbell|glutes,quads|hamstrings|Squat back to a box, pause briefly seated, then stand.|Sit back to the box;Stay tight on the box;Stand explosively
Bulgarian Split Squat|strength|dumbbell|quads,glutes|adductors|Rear foot on a bench, lower the back knee towards the floor.|Front foot far enough out;Drop straight down;Keep the hips square
Walking Lunge|strength|dumbbell|quads,glutes|hamstrings,calves|Alternate long steps forward, lowering the back knee each time.|Long stride;Torso tall;Push through the front heel
Reverse Lunge|strength|dumbbell|glutes,quads|hamstrings|Step backwards into a lunge and return to standing.|Step back softly;Front shin near vertical;Drive up through the front foot
Step-Up|strength|dumbbell|quads,glutes|calves|Step onto a box with one leg and stand fully before stepping down.|Whole foot on the box;Do not push off the back leg;Control the way down
Leg Press|strength|machine|quads,glutes|hamstrings|Press a weighted sled away with the legs while seated.|Lower back stays on the pad;Do not lock the knees;Full foot contact
Hack Squat|strength|machine|quads|glutes|A machine squat on an angled sled that keeps the torso supported.|Shoulders under the pads;Deep controlled descent;Drive through mid-foot
Leg Extension|strength|machine|quads||Straighten the knees against a padded lever.|Pause at the top;Slow on the way down;Hold the handles
Lying Leg Curl|strength|machine|hamstrings|calves|Curl the heels towards the glutes lying face down on the machine.|Hips pressed down;Squeeze at the top;Control the return
Seated Leg Curl|strength|machine|hamstrings||Curl the legs under the seat against a padded lever.|Thigh pad snug;Full range;Slow eccentric
Conventional Deadlift|strength|barbell|hamstrings,glutes,lower_back|quads,traps,forearms|Lift a bar from the floor to standing with a flat back.|Bar over mid-foot;Push the floor away;Lock out with the glutes
Sumo Deadlift|strength|barbell|glutes,adductors|hamstrings,quads,lower_back|A wide-stance deadlift with the hands inside the knees.|Knees out;Chest up;Hips close to the bar
Romanian Deadlift|strength|barbell|hamstrings,glutes|lower_back,forearms|Hinge at the hips with soft knees, lowering the bar along the legs.|Hips go back;Bar stays close;Feel the hamstrings stretch
Trap Bar Deadlift|strength|other|quads,glutes|hamstrings,traps|A deadlift from inside a hexagonal bar, easier on the lower back.|Stand in the centre;Chest tall;Drive straight up
Single-Leg Romanian Deadlift|strength|dumbbell|hamstrings,glutes|abs|Hinge on one leg while the other leg reaches back for balance.|Hips level;Reach the back heel away;Slow and steady
Good Morning|strength|barbell|hamstrings,lower_back|glutes|Bar on the back, hinge forward from the hips and return.|Soft knees;Neutral spine;Hips back first
Hip Thrust|strength|barbell|glutes|hamstrings|Upper back on a bench, drive the hips up under a loaded bar.|Chin tucked;Ribs down;Squeeze at the top
Glute Bridge|strength|bodyweight|glutes|hamstrings|Lying on the back, lift the hips until the body forms a straight line.|Heels close;Press through the heels;Hold the top
Cable Pull-Through|strength|cable|glutes,hamstrings||Face away from a low cable and hinge the rope through the legs.|Hinge, do not squat;Arms relaxed;Snap the hips
Kettlebell Swing|strength|kettlebell|glutes,hamstrings|lower_back,shoulders|Hike the bell back between the legs and drive the hips to float it to chest height.|Hinge not squat;Snap the hips;Arms are ropes
Standing Calf Raise|strength|machine|calves||Rise onto the toes under load and lower the heels below the step.|Full stretch at the bottom;Pause at the top;Straight knees
Seated Calf Raise|strength|machine|calves||Raise the heels against a knee pad while seated.|Slow tempo;Full range;Do not bounce
Nordic Hamstring Curl|strength|bodyweight|hamstrings||Kneeling with the ankles held, lower the body forward as slowly as possible.|Hips extended;Resist all the way;Push back up with the hands
Copenhagen Plank|core|bench|adductors|obliques|A side plank with the top leg on a bench, working the inner thigh.|Straight line;Top knee or ankle on the bench;Breathe
Bench Press|strength|barbell|chest|triceps,shoulders|Lower a bar to the chest lying on a bench and press it back up.|Shoulder blades pinned;Feet planted;Bar to the lower chest
Incline Bench Press|strength|barbell|chest,shoulders|triceps|A bench press on an inclined bench that favours the upper chest.|Bench at 30 degrees;Touch the upper chest;Elbows slightly tucked
Close-Grip Bench Press|strength|barbell|triceps|chest,shoulders|A bench press with the hands shoulder-width apart.|Elbows close;Wrists straight;Touch low on the chest
Dumbbell Bench Press|strength|dumbbell|chest|triceps,shoulders|Press two dumbbells from the chest lying on a flat bench.|Deep stretch;Press up and slightly in;Control each side
Incline Dumbbell Press|strength|dumbbell|chest,shoulders|triceps|Dumbbell press on an incline bench.|Elbows under the wrists;Do not clash the bells;Full range
Dumbbell Fly|strength|dumbbell|chest|shoulders|Open the arms wide with a slight bend and bring the bells together over the chest.|Soft elbows;Stretch, do not strain;Hug a tree
Cable Crossover|strength|cable|chest|shoulders|Bring two high cable handles together in front of the body.|Lean slightly forward;Lead with the elbows;Squeeze the chest
Push-Up|strength|bodyweight|chest,triceps|shoulders,abs|Lower the body to the floor in a plank and push back up.|Body in one line;Elbows at 45 degrees;Chest to the floor
Dip|strength|bodyweight|chest,triceps|shoulders|Lower the body between parallel bars and press back up.|Slight forward lean;Shoulders down;Lock out at the top
Machine Chest Press|strength|machine|chest|triceps|Press handles forward from a seated machine.|Handles at chest height;Back on the pad;Smooth reps
Pec Deck|strength|machine|chest||Bring padded arms together in front of the chest while seated.|Elbows slightly bent;Pause when closed;Slow return
Overhead Press|strength|barbell|shoulders|triceps,abs|Press a bar from the shoulders to overhead while standing.|Squeeze the glutes;Head through at the top;Bar in a straight line
Seated Dumbbell Shoulder Press|strength|dumbbell|shoulders|triceps|Press two dumbbells overhead from a seated position.|Back supported;Wrists over elbows;Do not arch
Arnold Press|strength|dumbbell|shoulders|triceps|A dumbbell press that rotates the palms from facing you to facing forward.|Rotate as you press;Smooth tempo;Full lockout
Push Press|strength|barbell|shoulders|triceps,quads|A short dip of the legs drives the bar overhead.|Dip straight down;Drive hard;Finish with the arms
Lateral Raise|strength|dumbbell|shoulders||Raise dumbbells out to the sides to shoulder height.|Lead with the elbows;Slight forward lean;No swinging
Cable Lateral Raise|strength|cable|shoulders||A lateral raise with a low cable for constant tension.|Stand side-on;Raise to shoulder height;Slow down
Rear Delt Fly|strength|dumbbell|shoulders|upper_back|Hinged forward, raise the dumbbells out to the sides.|Flat back;Thumbs slightly down;Squeeze the rear shoulders
Face Pull|strength|cable|shoulders,upper_back|traps|Pull a rope towards the face with the elbows high.|Pull to the eyes;Elbows high;Rotate the hands back
Upright Row|strength|barbell|shoulders,traps|biceps|Pull a bar up the front of the body to chest height.|Wide grip;Elbows lead;Stop at chest height
Barbell Shrug|strength|barbell|traps|forearms|Lift the shoulders towards the ears holding a bar.|Straight up;Pause at the top;No rolling
Pull-Up|strength|pullup_bar|lats|biceps,upper_back|Hang from a bar with an overhand grip and pull the chin above it.|Start from a dead hang;Chest to the bar;Control the way down
Chin-Up|strength|pullup_bar|lats,biceps|upper_back|A pull-up with the palms facing you.|Full hang;Elbows to the ribs;No kipping
Lat Pulldown|strength|cable|lats|biceps,upper_back|Pull a wide bar down to the upper chest while seated.|Lean back slightly;Pull the elbows down;Slow return
Close-Grip Pulldown|strength|cable|lats|biceps|A pulldown with a close neutral handle.|Chest up;Pull to the sternum;Full stretch
Barbell Row|strength|barbell|upper_back,lats|biceps,lower_back|Hinged forward, pull a bar to the lower ribs.|Flat back;Pull to the belly;No jerking
Pendlay Row|strength|barbell|upper_back,lats|lower_back|A strict row from the floor, each rep starting dead.|Torso parallel;Explode up;Reset each rep
One-Arm Dumbbell Row|strength|dumbbell|lats,upper_back|biceps|Hand and knee on a bench, row a dumbbell to the hip.|Pull to the hip;Square shoulders;Full stretch
Seated Cable Row|strength|cable|upper_back,lats|biceps|Row a handle to the belly while seated with the feet braced.|Tall torso;Squeeze the shoulder blades;Do not rock
Chest-Supported Row|strength|dumbbell|upper_back|lats,biceps|Row dumbbells lying face down on an incline bench.|Chest on the pad;Elbows back;Pause at the top
T-Bar Row|strength|barbell|upper_back,lats|biceps|Row a landmine bar with a close handle.|Hinge and brace;Pull to the chest;Control down
Inverted Row|strength|suspension|upper_back|biceps,abs|Hanging under a bar or straps, pull the chest up to the hands.|Body straight;Chest to the bar;Slow lowering
Straight-Arm Pulldown|strength|cable|lats||Push a bar down to the thighs with straight arms.|Arms long;Hinge slightly;Squeeze the lats
Back Extension|strength|bench|lower_back,glutes|hamstrings|Face down on a hyperextension bench, lift the torso to a straight line.|Hinge at the hips;Squeeze the glutes;Do not overarch
Barbell Curl|strength|barbell|biceps|forearms|Curl a bar from the thighs to the shoulders.|Elbows still;No swinging;Full extension
Dumbbell Curl|strength|dumbbell|biceps|forearms|Curl dumbbells with the palms turning up.|Supinate as you curl;Slow down;Elbows by the sides
Hammer Curl|strength|dumbbell|biceps,forearms||Curl dumbbells with a neutral grip.|Thumbs up;Elbows fixed;Squeeze at the top
Preacher Curl|strength|bench|biceps||Curl with the upper arms resting on a preacher pad.|Armpits on the pad;Full stretch;No bouncing
Cable Curl|strength|cable|biceps||Curl a low cable bar for constant tension.|Stand tall;Elbows forward slightly;Slow eccentric
Triceps Pushdown|strength|cable|triceps||Push a cable bar or rope down until the arms are straight.|Elbows pinned;Spread the rope;Pause at the bottom
Overhead Triceps Extension|strength|dumbbell|triceps||Lower a dumbbell behind the head and extend the arms.|Elbows point up;Deep stretch;Lock out
Skull Crusher|strength|barbell|triceps||Lying on a bench, bend the elbows to lower a bar towards the forehead.|Upper arms still;Lower slowly;Extend fully
Bench Dip|strength|bench|triceps|chest|Hands on a bench behind you, bend the elbows and press back up.|Shoulders down;Hips close to the bench;Elbows back
Wrist Curl|strength|dumbbell|forearms||Forearms on the thighs, curl a weight with the wrists.|Slow;Full range;Light weight
Farmer's Carry|strength|dumbbell|forearms,traps|abs,full_body|Walk carrying heavy weights at the sides.|Tall posture;Short quick steps;Crush the handles
Suitcase Carry|core|kettlebell|obliques|forearms|Walk carrying one heavy weight on one side without leaning.|Do not lean;Ribs down;Breathe steadily
Plank|core|bodyweight|abs|shoulders,glutes|Hold a straight-body position on the forearms.|Squeeze the glutes;Ribs down;Breathe
Side Plank|core|bodyweight|obliques|shoulders|Hold the body straight on one forearm, side-on.|Hips high;Stack the feet;Head in line
Dead Bug|core|bodyweight|abs||Lying on the back, extend opposite arm and leg while the back stays flat.|Low back down;Move slowly;Exhale as you reach
Bird Dog|core|bodyweight|lower_back,abs|glutes|On all fours, reach opposite arm and leg long.|Hips level;Reach long;Pause each side
Hanging Leg Raise|core|pullup_bar|abs,hip_flexors||Hanging from a bar, raise the legs to hip height or higher.|No swinging;Curl the pelvis;Lower slowly
Hanging Knee Raise|core|pullup_bar|abs,hip_flexors||Hanging from a bar, bring the knees up to the chest.|Still body;Knees to chest;Control down
Cable Crunch|core|cable|abs||Kneeling, crunch down against a rope from a high cable.|Round the spine;Hips still;Exhale hard
Ab Wheel Rollout|core|other|abs|lats,shoulders|Roll a wheel forward from the knees and pull back.|Hollow body;Go only as far as you control;Pull with the lats
Russian Twist|core|medicine_ball|obliques|abs|Seated and leaning back, rotate a ball from side to side.|Chest tall;Rotate the ribs;Feet down if needed
Pallof Press|core|cable|obliques,abs||Press a cable handle straight out from the chest and resist the rotation.|Stand side-on;Press and hold;Do not twist
Hollow Body Hold|core|bodyweight|abs||Lying on the back, hold arms and legs off the floor in a banana shape.|Low back glued down;Point the toes;Breathe shallow
Mountain Climber|cardio|bodyweight|abs,hip_flexors|shoulders|In a plank, drive the knees to the chest in turn, quickly.|Hips level;Quick feet;Shoulders over hands
Bicycle Crunch|core|bodyweight|obliques,abs||Lying down, bring opposite elbow and knee together in turn.|Slow and controlled;Shoulders off the floor;Full leg extension
Woodchop|core|cable|obliques|shoulders|Rotate a cable handle diagonally across the body.|Pivot the back foot;Arms long;Rotate from the torso
Sit-Up|core|bodyweight|abs|hip_flexors|Lying on the back with bent knees, sit all the way up.|Exhale up;Do not pull the neck;Control down
Treadmill Run|cardio|treadmill|full_body|quads,calves|Running on a treadmill at a set pace or incline.|Relaxed shoulders;Quick light steps;Look ahead
Outdoor Run|cardio|bodyweight|full_body|quads,calves|Running outside for time or distance.|Easy pace most days;Tall posture;Breathe rhythmically
Incline Walk|cardio|treadmill|glutes,calves|hamstrings|Brisk walking on a steep treadmill incline.|Do not hold the rails;Long strides;Steady pace
Rowing Machine|cardio|rower|full_body|upper_back,quads|Steady or interval rowing on an ergometer.|Legs, body, arms;Arms, body, legs on the return;Strong push
Stationary Bike|cardio|bike|quads|glutes,calves|Cycling on a stationary bike for time, distance or intervals.|Seat at hip height;Smooth circles;Relax the grip
Assault Bike|cardio|bike|full_body|quads,shoulders|An air bike pushed and pulled with arms and legs.|Push and pull;Pace yourself;Breathe
Ski Erg|cardio|ski_erg|lats,full_body|triceps,abs|Pull two handles down in a skiing motion.|Hinge with the pull;Arms finish by the hips;Rhythmic
Elliptical Trainer|cardio|machine|full_body|quads,glutes|Low-impact striding on an elliptical machine.|Tall posture;Push and pull the handles;Even rhythm
Stair Climber|cardio|machine|glutes,quads|calves|Climbing continuous stairs on a machine.|Whole foot on the step;Stand tall;Light hands
Jump Rope|cardio|rope|calves|shoulders|Skipping a rope with small quick hops.|Small jumps;Turn from the wrists;Land softly
Burpee|cardio|bodyweight|full_body|chest,quads|Drop to the floor, push up, jump the feet in and jump up.|Chest to the floor;Feet in fast;Jump tall
Sled Push|cardio|sled|quads,glutes|calves,full_body|Push a loaded sled across the floor.|Low body angle;Drive the knees;Arms locked
Battle Ropes|cardio|rope|shoulders|abs,forearms|Make waves with two heavy ropes.|Athletic stance;Move from the shoulders;Keep the waves going
Swimming|cardio|other|full_body|lats,shoulders|Laps in the pool in any stroke.|Long strokes;Exhale under water;Steady kick
Box Jump|plyometric|box|quads,glutes|calves|Jump from the floor onto a box and land softly.|Swing the arms;Land quietly;Step down
Broad Jump|plyometric|bodyweight|glutes,quads|calves,hamstrings|Jump forward as far as possible from both feet.|Load the hips;Drive the arms;Stick the landing
Jump Squat|plyometric|bodyweight|quads,glutes|calves|Squat down and jump as high as possible.|Quarter to half squat;Explode;Land soft and reset
Medicine Ball Slam|plyometric|medicine_ball|lats,abs|shoulders|Lift a ball overhead and throw it into the floor.|Reach tall;Slam with the whole body;Catch on the bounce
Wall Ball|cardio|medicine_ball|quads,shoulders|glutes|Squat holding a ball and throw it to a target on the wall.|Deep squat;Drive with the legs;Catch into the squat
Lateral Bound|plyometric|bodyweight|glutes|adductors,calves|Leap sideways from one leg to the other.|Push off hard;Land on one leg;Stick each landing
Power Clean|olympic|barbell|full_body|traps,quads,hamstrings|Pull a bar from the floor and catch it on the shoulders.|Bar close;Extend fully;Fast elbows
Hang Clean|olympic|barbell|full_body|traps,quads|A clean started from the thighs.|Hinge to the hang;Jump and shrug;Elbows through
Power Snatch|olympic|barbell|full_body|shoulders,traps|Lift a bar from the floor to overhead in one move with a wide grip.|Bar close;Punch up;Receive in a quarter squat
Clean and Jerk|olympic|barbell|full_body|shoulders,quads|A clean to the shoulders followed by a jerk overhead.|Finish the pull;Dip and drive;Lock out fast
Kettlebell Snatch|olympic|kettlebell|full_body|shoulders,glutes|Swing a bell from between the legs to overhead in one move.|Hike it back;Punch through;Soft catch
Thruster|strength|barbell|quads,shoulders|glutes,triceps|A front squat flowing straight into an overhead press.|Elbows up in the squat;Drive with the legs;Press as you rise
Turkish Get-Up|strength|kettlebell|full_body|shoulders,abs|Stand up from lying down with a bell held overhead, and return.|Eyes on the bell;Move step by step;Arm locked
Kettlebell Goblet Lunge|strength|kettlebell|quads,glutes|abs|Reverse lunge holding a bell at the chest.|Elbows tight;Torso tall;Step back softly
Landmine Press|strength|barbell|shoulders,chest|triceps|Press the end of an anchored bar up and forward.|Staggered stance;Press up and out;Ribs down
World's Greatest Stretch|mobility|bodyweight|hip_flexors,upper_back|hamstrings|A lunge with a rotation and reach that opens the hips and spine.|Back knee off the floor;Rotate towards the front knee;Breathe into it
Cat-Cow|mobility|bodyweight|lower_back,upper_back||On all fours, round and then arch the spine in turn.|Move segment by segment;Slow breaths;Full range
Hip 90/90|mobility|bodyweight|glutes,hip_flexors||Seated with both legs bent at 90 degrees, rotate the hips side to side.|Tall spine;Knees to the floor;Slow transitions
Thoracic Rotation|mobility|bodyweight|upper_back||Side-lying or kneeling, rotate the upper back open.|Keep the hips still;Follow the hand with the eyes;Exhale as you rotate
Deep Squat Hold|mobility|bodyweight|hip_flexors,adductors|calves|Sit in the bottom of a squat and stay there.|Heels down;Elbows push the knees out;Breathe
Band Pull-Apart|mobility|band|upper_back,shoulders||Pull a band apart in front of the chest.|Straight arms;Squeeze the shoulder blades;Slow return
Shoulder Dislocate|mobility|band|shoulders||Take a band or stick from the front of the body to the back with straight arms.|Wide grip;Straight arms;No forcing
Ankle Rock|mobility|bodyweight|calves||Half kneeling, rock the front knee over the toes.|Heel down;Knee over the little toe;Small pulses
Hip Flexor Stretch|stretching|bodyweight|hip_flexors|quads|Half kneeling, shift the hips forward to stretch the front of the back hip.|Tuck the pelvis;Squeeze the back glute;Hold and breathe
Hamstring Stretch|stretching|bodyweight|hamstrings||Hinge over a straight leg to stretch the back of the thigh.|Flat back;Hinge at the hips;Breathe slowly
Pigeon Stretch|stretching|bodyweight|glutes|hip_flexors|Front shin across the body, lower the hips to stretch the glute.|Square the hips;Lean forward slowly;Support with the hands
Child's Pose|stretching|bodyweight|lower_back,lats||Kneeling, sit back on the heels and reach the arms forward.|Knees wide;Breathe into the back;Relax the neck
Chest Doorway Stretch|stretching|bodyweight|chest|shoulders|Forearm on a door frame, turn the body away to stretch the chest.|Elbow at shoulder height;Gentle lean;No pain
Couch Stretch|stretching|bodyweight|quads,hip_flexors||Back knee against a wall, lift the torso to stretch the front of the thigh.|Squeeze the glute;Tall torso;Ease in
Foam Roll Upper Back|mobility|other|upper_back||Roll the upper back slowly over a foam roller.|Hands behind the head;Pause on tight spots;Breathe
Pike Push-Up|strength|bodyweight|shoulders|triceps|A push-up with the hips high that loads the shoulders.|Hips up;Head between the hands;Elbows back
Handstand Hold|strength|bodyweight|shoulders|triceps,abs|Hold a handstand against a wall or freestanding.|Push tall;Ribs in;Eyes between the hands
Pistol Squat|strength|bodyweight|quads,glutes|abs|A full squat on one leg with the other held in front.|Reach forward;Slow down;Drive up through the heel
Wall Sit|strength|bodyweight|quads||Back against a wall, hold a seated position with the thighs level.|Knees over the ankles;Back flat;Breathe
Sissy Squat|strength|bodyweight|quads||Lean back while bending the knees forward to load the quads.|Straight line knees to head;Hold on for balance;Slow tempo
Hip Abduction Machine|strength|machine|glutes||Push the knees apart against pads while seated.|Sit tall;Pause wide;Slow return
Hip Adduction Machine|strength|machine|adductors||Squeeze the knees together against pads while seated.|Controlled squeeze;Full range;No bouncing
Cable Kickback|strength|cable|glutes||Kick one leg back against a low cable.|Hinge slightly;Squeeze the glute;Do not arch
Reverse Hyperextension|strength|machine|glutes,lower_back|hamstrings|Lying face down on a high bench, raise the legs behind you.|Hips on the edge;Lift with the glutes;Control down
Zercher Squat|strength|barbell|quads,abs|upper_back|A squat holding the bar in the crooks of the elbows.|Elbows up;Stay upright;Brace hard
Overhead Squat|strength|barbell|quads,shoulders|abs,upper_back|A squat with a bar held locked out overhead.|Push the bar up;Chest tall;Heels down
Devil Press|cardio|dumbbell|full_body|shoulders,glutes|A burpee on dumbbells ending with a swing of both bells overhead.|Chest to the bells;Hinge and swing;Lock out overhead
"""
