"""Our QR encoder (static/js/qrcode.js), run in Chromium, makes a standard QR code: read
back here module by module and checked against segno's patterns and Reed-Solomon codes.

(segno itself is not compared module for module: it adds a whole zero byte of padding
after the terminator when the data already ends on a byte boundary, where the standard
adds none, so the pad codewords differ though both codes read the same.)"""

import os

import pytest
import segno

pytestmark = pytest.mark.browser


@pytest.fixture
def allow_playwright_loop():
    # Playwright leaves an event loop in this thread (see the journey fixture).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


# What a reader needs to find the data in a QR code of versions 1 to 6 (ISO/IEC 18004).
_ALIGNMENT = {1: [], 2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34]}
_BLOCKS_M = {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4}
_MASKS = [
    lambda r, c: (r + c) % 2 == 0,
    lambda r, c: r % 2 == 0,
    lambda r, c: c % 3 == 0,
    lambda r, c: (r + c) % 3 == 0,
    lambda r, c: (r // 2 + c // 3) % 2 == 0,
    lambda r, c: (r * c) % 2 + (r * c) % 3 == 0,
    lambda r, c: ((r * c) % 2 + (r * c) % 3) % 2 == 0,
    lambda r, c: ((r + c) % 2 + (r * c) % 3) % 2 == 0,
]


def _function_modules(version: int) -> set[tuple[int, int]]:
    size = version * 4 + 17
    cells = {(r, c) for r in range(9) for c in range(9)}  # finder, separator, format
    cells |= {(r, c) for r in range(9) for c in range(size - 8, size)}
    cells |= {(r, c) for r in range(size - 8, size) for c in range(9)}
    cells |= {(6, i) for i in range(size)} | {(i, 6) for i in range(size)}
    centres = _ALIGNMENT[version]
    for cy in centres:
        for cx in centres:
            if (cy, cx) in cells:
                continue
            cells |= {(cy + dr, cx + dc) for dr in range(-2, 3) for dc in range(-2, 3)}
    return cells


def _read_codewords(modules, version: int, mask: int) -> list[int]:
    """The codeword stream of a symbol, read in the standard's zigzag and unmasked."""
    size, fixed, bits = len(modules), _function_modules(version), []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = ((right + 1) & 2) == 0
        for vert in range(size):
            row = size - 1 - vert if upward else vert
            for col in (right, right - 1):
                if (row, col) not in fixed:
                    bits.append(int(bool(modules[row][col]) ^ _MASKS[mask](row, col)))
        right -= 2
    return [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits) - 7, 8)]


@pytest.mark.parametrize(
    "payload",
    ["SPQ1.7.59342710.0123456789abcdef01234567", "SPQ1.123456.59342710.ffffffffffffffffffffffff"],
)
def test_our_qr_encoder_makes_a_standard_code(allow_playwright_loop, page, payload):
    from segno import consts
    from segno import encoder as segno_encoder

    from gymsite.tests.browser import require_chromium

    require_chromium()
    # given our encoder, loaded in Chromium
    page.set_content("<html><body></body></html>")
    page.add_script_tag(path="static/js/qrcode.js")

    # when it encodes an entry code
    ours = page.evaluate("(text) => window.SpotterQR.encode(text)", payload)
    version, mask, modules = ours["version"], ours["mask"], ours["modules"]

    # then it is the smallest version at level M that holds it, as segno would choose
    assert version == segno.make(payload, error="m", boost_error=False).version
    # and its finder, timing, alignment and format modules (level M, this mask) are segno's
    theirs = segno.make(payload, version=version, error="m", mask=mask, boost_error=False)
    for row, col in _function_modules(version):
        assert bool(theirs.matrix[row][col]) == modules[row][col], (row, col)
    # and its data reads back as byte mode, the payload, the terminator and the pad
    # codewords, followed by the Reed-Solomon codewords segno computes for that data
    stream = _read_codewords(modules, version, mask)
    blocks = _BLOCKS_M[version]
    ecc_info = consts.ECC[version][consts.ERROR_LEVEL_M]
    data_length = sum(info.num_blocks * info.num_data for info in ecc_info)
    interleaved = stream[:data_length]
    data = [b for k in range(blocks) for b in interleaved[k::blocks]]
    bits = "".join(f"{b:08b}" for b in data)
    encoded = payload.encode()
    assert bits[:4] == "0100" and int(bits[4:12], 2) == len(encoded)
    body_end = 12 + 8 * len(encoded)
    assert bytes(int(bits[i : i + 8], 2) for i in range(12, body_end, 8)) == encoded
    assert bits[body_end : body_end + 4] == "0000"
    pads = data[(body_end + 4 + 7) // 8 :]
    assert pads == [(0xEC, 0x11)[i % 2] for i in range(len(pads))]
    buffer = segno_encoder.Buffer()
    for byte in data:
        buffer.extend((byte >> i) & 1 for i in reversed(range(8)))
    final = list(segno_encoder.make_final_message(version, consts.ERROR_LEVEL_M, buffer))
    expected = [int("".join(map(str, final[i : i + 8])), 2) for i in range(0, len(final) - 7, 8)]
    assert stream[: len(expected)] == expected
