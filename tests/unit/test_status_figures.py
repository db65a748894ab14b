"""The latency histogram's buckets and the percentiles read back from summed buckets."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from portal.kaltura.calls import classify
from portal.kaltura.errors import KalturaApiError, KalturaUnavailable, OutboundBlocked
from portal.models import LATENCY_BOUNDS_MS, LATENCY_BUCKETS
from portal.status.recording import bucket_of
from portal.status.services import percentile


def test_each_duration_falls_in_the_first_bucket_it_does_not_exceed():
    assert [bucket_of(ms) for ms in (0, 50, 50.1, 100, 150, 12800, 12801, 10**7)] == [0, 0, 1, 1, 2, 8, 9, 9]


def test_percentiles_interpolate_inside_the_bucket():
    histogram = [0] * LATENCY_BUCKETS
    histogram[2] = 10  # ten calls between 100 and 200 ms
    assert percentile(histogram, 0.5) == 150
    assert percentile(histogram, 0.95) == 195
    histogram[9] = 90  # most calls slower than the last bound: reported as that bound (a floor)
    assert percentile(histogram, 0.5) == LATENCY_BOUNDS_MS[-1]
    assert percentile([0] * LATENCY_BUCKETS, 0.5) is None


@given(st.lists(st.floats(min_value=0, max_value=20000), min_size=1, max_size=200))
def test_the_percentile_lies_in_the_bucket_of_the_true_value(durations):  # type: ignore[no-untyped-def]
    histogram = [0] * LATENCY_BUCKETS
    for ms in durations:
        histogram[bucket_of(ms)] += 1
    ordered = sorted(durations)
    for q in (0.5, 0.95):
        estimate = percentile(histogram, q)
        true = ordered[max(1, math.ceil(q * len(ordered))) - 1]
        bucket = bucket_of(true)
        low = LATENCY_BOUNDS_MS[bucket - 1] if bucket else 0
        high = LATENCY_BOUNDS_MS[bucket] if bucket < len(LATENCY_BOUNDS_MS) else LATENCY_BOUNDS_MS[-1]
        assert estimate is not None and low <= estimate <= high


def test_outcomes_and_codes_of_each_kind_of_failure():
    assert classify(None) == ("ok", "")
    assert classify(KalturaApiError("SERVICE_FORBIDDEN", "no")) == ("kaltura_error", "SERVICE_FORBIDDEN")
    assert classify(KalturaUnavailable("http_status", status=503)) == ("transport", "http_status/503")
    assert classify(KalturaUnavailable("timeout")) == ("transport", "timeout")
    assert classify(OutboundBlocked("private_address", "no")) == ("transport", "blocked/private_address")
