"""Personal training: a member books a trainer for a slot of their availability.

The models (``Appointment``, ``AppointmentService``, ``TrainerAvailability``) are in
``bookings.models``; here are their services, selectors and the free-slot finder."""
