from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        # bookings stands on the timetable: what a change to a session means for the
        # people booked on it is registered with classes, which imports nothing of ours.
        from bookings import services
        from bookings.appointments.selectors import APPOINTMENTS_COMMITMENT
        from classes import hooks

        hooks.session_cancelling.register(services.session_cancelling_lock)
        hooks.session_cancelled.register(services.session_cancelled_bookings)
        hooks.session_moved.register(services.session_moved_notify)
        hooks.session_resized.register(services.session_resized_promote)
        hooks.trainer_commitment_register(APPOINTMENTS_COMMITMENT)
