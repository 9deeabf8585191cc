"""Helpers shared by the apps' API serializers."""

from contextlib import suppress
from functools import cache

from rest_framework import serializers
from rest_framework.fields import SkipField, empty


@cache
def _fields_only(serializer_class) -> bool:
    """The serializer checks nothing beyond its fields (no ``validate[_<field>]``,
    no serializer-level validators)."""
    meta = getattr(serializer_class, "Meta", None)
    return (
        serializer_class.validate is serializers.Serializer.validate
        and not getattr(meta, "validators", None)
        and not any(
            hasattr(serializer_class, f"validate_{name}")
            for name in serializer_class._declared_fields
        )
    )


def validated_input(serializer_class, data) -> dict:
    """``serializer_class(data=data)``'s validated data, or its 400.

    A serializer deep-copies its declared fields every time one is made, which the
    hot endpoints (a door's check-in, a class booking, a flash-sale purchase) paid
    for on every request. A JSON object whose every field is valid is checked here
    by the declared fields themselves (they keep no state while validating);
    anything else — an error, a body that is not an object, a serializer with its
    own ``validate`` methods — goes through the serializer, so answers and error
    messages are exactly the serializer's.
    """
    if type(data) is dict and _fields_only(serializer_class):
        values = {}
        try:
            for name, field in serializer_class._declared_fields.items():
                with suppress(SkipField):  # optional and absent
                    values[name] = field.run_validation(data.get(name, empty))
        except serializers.ValidationError:
            pass
        else:
            return values
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
