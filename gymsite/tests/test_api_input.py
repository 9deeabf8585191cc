"""validated_input: the declared fields' answer, exactly the serializer's."""

import pytest
from rest_framework import serializers

from gymsite.api.serializers import validated_input


class Body(serializers.Serializer):
    count = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False, max_length=5)
    kind = serializers.ChoiceField(choices=["a", "b"], default="a")


class Checked(Body):
    def validate_note(self, value):
        raise serializers.ValidationError("never")


def _serializer_answer(serializer_class, data):
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    return serializer.errors


def _answer(serializer_class, data):
    try:
        return dict(validated_input(serializer_class, data))
    except serializers.ValidationError as exc:
        return exc.detail


@pytest.mark.parametrize(
    "data",
    [
        {"count": 2},
        {"count": "3", "note": "hi", "kind": "b"},
        {"count": 0},
        {"note": "far too long", "count": "x"},
        {},
        [],
        {"count": 2, "unknown": 1},
    ],
)
def test_same_answer_as_the_serializer(data):
    assert _answer(Body, data) == _serializer_answer(Body, data)


def test_serializer_with_its_own_checks_goes_through_the_serializer():
    assert _answer(Checked, {"count": 1, "note": "x"}) == {"note": ["never"]}
