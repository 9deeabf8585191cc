from bookings.tests.conftest import class_pack, make_member, session_factory, staff_user  # noqa: F401
