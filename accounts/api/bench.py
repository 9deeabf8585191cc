"""The framework floor for benchmarks: a trivial authenticated DRF POST inserting one row.

Mounted only when BENCH_ENDPOINTS is true (bench/harness.py sets it); never in production.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import AuditLog


class FloorView(APIView):
    @extend_schema(exclude=True)
    def post(self, request):
        row = AuditLog.objects.create(
            actor=request.user, action="bench.floor", target_type="bench", target_id="0"
        )
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)
