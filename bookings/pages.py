"""Who is asking, for the booking pages (member portal and trainer portal)."""

from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Member, TrainerProfile
from accounts.selectors import member_for_user, trainer_for_user


def _gym_or_404(request) -> None:
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))


def member_or_none(request) -> Member | None:
    """The signed-in person's member record at the gym served here (None: not a member
    yet, and the page sends them to join); a 404 where no gym is served."""
    _gym_or_404(request)
    return member_for_user(user=request.user)


def trainer_or_404(request) -> TrainerProfile:
    """The signed-in trainer at the gym served here; a 404 for anyone else."""
    _gym_or_404(request)
    trainer = trainer_for_user(user=request.user)
    if trainer is None:
        raise Http404(_("You are not a trainer at this gym."))
    return trainer
