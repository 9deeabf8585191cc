"""The check-in's input is checked by its serializer's fields: same values, same errors."""

import pytest
from rest_framework import serializers

from access.api.serializers import CheckinInputSerializer
from gymsite.api.serializers import validated_input

VALID = [
    {"credential": "CARD-1"},
    {"credential": "  CARD-1  ", "request_id": "r-1"},
    {"credential": "CARD-1", "direction": "out", "unknown": "ignored"},
    {"credential": "SPQ1.4.123.abc", "direction": "in", "request_id": "x" * 64},
]
INVALID = [
    {},
    {"credential": ""},
    {"credential": "   "},
    {"credential": None},
    {"credential": "x" * 201},
    {"credential": "CARD-1", "direction": "sideways"},
    {"credential": "CARD-1", "request_id": "x" * 65},
    {"credential": ["CARD-1"]},
    {"credential": "CARD\x00-1"},
    ["CARD-1"],
    "CARD-1",
]


def _serializer(data):
    serializer = CheckinInputSerializer(data=data)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    return serializer.errors


@pytest.mark.parametrize("data", VALID)
def test_valid_input_gives_the_serializers_values(data):
    assert validated_input(CheckinInputSerializer, data) == _serializer(data)


@pytest.mark.parametrize("data", INVALID)
def test_invalid_input_gives_the_serializers_errors(data):
    with pytest.raises(serializers.ValidationError) as raised:
        validated_input(CheckinInputSerializer, data)
    assert raised.value.detail == _serializer(data)


def test_a_serializer_with_its_own_checks_is_always_run():
    class Strict(CheckinInputSerializer):
        def validate_credential(self, value):
            raise serializers.ValidationError("never")

    with pytest.raises(serializers.ValidationError) as raised:
        validated_input(Strict, {"credential": "CARD-1"})
    assert raised.value.detail == {"credential": ["never"]}
