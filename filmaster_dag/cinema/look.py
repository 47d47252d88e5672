"""What a shot looks like: an offline visual descriptor of one frame, for search by example.

``describe_look(rgb)`` turns a frame into a fixed-length, L2-normalised vector that a shot index
can search with cosine (or L2) distance: "find shots that look like this frame". No model weights,
no network: it measures what a cinematographer would look at first.

* **colour layout**: where the colours sit (an 8x8 grid of mean Lab colours, compressed by a
  2-D DCT as in MPEG-7's Colour Layout): a green meadow under a blue sky, a dark left half.
* **palette**: which colours the frame is made of, wherever they sit (a soft Lab histogram):
  the grade, warm or cool, saturated or black and white, high-key or low-key.
* **texture**: edge orientation over a 3x3 grid (the frame's lines: verticals of trees, a
  horizon), edge density and gradient energy at two scales (fine grass vs. smooth sky).
* **composition**: where the weight sits: brightness and detail over the thirds, their
  centroids, the horizon line, left-right and top-bottom symmetry.

Every block is normalised to unit length and weighted, so no block dominates and the cosine of
two looks is the weighted mean of the per-block cosines (:func:`explain_look` reports them). The
frame is first reduced to a fixed analysis size with area averaging, which makes the descriptor
independent of resolution and of most codec differences (the same frame at 720p VP8 and 360p
H.264 describes almost the same), and letterbox or pillarbox bars are cut away (a matted
release looks like its scope picture). Measured in ``bench/look.py``: about 3 ms per frame.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

#: Bump whenever the descriptor changes: stored vectors of another version must be recomputed.
LOOK_VERSION = "look-5"

#: The analysis picture (width, height): every frame is area-averaged to twice this size, its bars
#: cut, then halved to it. Wide enough for the edges of a 3x3 grid, small enough to erase grain
#: and codec blocking.
ANALYSIS_SIZE = (128, 72)

# Block sizes (see the module docstring); each block ends in a constant "bias" component where the
# features are signed, so that two nearly featureless frames (flat grey) still compare as alike.
_LAYOUT_COEFFS = (15, 10, 10)  # zigzag DCT coefficients kept for L, a, b (MPEG-7 keeps 6/3/3)
_PALETTE_BINS = (4, 5, 5)  # L x a x b; the middle a and b bins are the neutral greys
_ORIENT_BINS = 6  # unsigned edge orientations, 30 degrees apart
_GRID = 3  # thirds
_ENERGY_TYPICAL = 3.5  # mean gradient magnitude (L units per pixel) of a typical frame at the analysis size
_ENERGY_FLOOR = 0.3  # below this a frame is flat: a fade, a black slate

_LAYOUT_DIM = sum(_LAYOUT_COEFFS) + 1
_PALETTE_DIM = int(np.prod(_PALETTE_BINS))
_TEXTURE_DIM = _GRID * _GRID * _ORIENT_BINS + 2 * _GRID * _GRID + 4 + 1
_COMPOSITION_DIM = 9 + 9 + 4 + 2 + 2 + 1

#: Block name -> (start, stop) in the vector, in order.
BLOCKS: dict[str, tuple[int, int]] = {}
_start = 0
for _name, _dim in (
    ("colour_layout", _LAYOUT_DIM),
    ("palette", _PALETTE_DIM),
    ("texture", _TEXTURE_DIM),
    ("composition", _COMPOSITION_DIM),
):
    BLOCKS[_name] = (_start, _start + _dim)
    _start += _dim

#: Length of a look vector.
LOOK_DIM: int = _start

#: Share of each block in the cosine (the squares of the block weights; they sum to 1).
BLOCK_SHARES: dict[str, float] = {"colour_layout": 0.25, "palette": 0.25, "texture": 0.25, "composition": 0.25}


def _zigzag(n: int) -> list[tuple[int, int]]:
    """JPEG zigzag order of an n x n DCT: low frequencies (broad colour areas) first."""
    return sorted(((i, j) for i in range(n) for j in range(n)), key=lambda p: (p[0] + p[1], p[0] if (p[0] + p[1]) % 2 else p[1]))


_ZIGZAG = _zigzag(8)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else v


#: Brightest a letterbox or pillarbox bar may be (0..255, after area averaging), and the least of
#: the frame that must remain once the bars are cut away (a fade to black keeps its whole frame).
_BAR_MAX = 12
_PROBE_SIZE = (2 * ANALYSIS_SIZE[0], 2 * ANALYSIS_SIZE[1])
_BAR_KEEP = 0.4


def _picture_area(rgb: np.ndarray) -> np.ndarray:
    """The picture without letterbox or pillarbox bars: a 2.39:1 film matted into 16:9 looks like itself."""
    h, w = rgb.shape[:2]
    probe = rgb if (w, h) == _PROBE_SIZE else cv2.resize(rgb, _PROBE_SIZE, interpolation=cv2.INTER_AREA)
    ph, pw = probe.shape[:2]
    rows = np.flatnonzero(probe.reshape(ph, -1).max(axis=1) > _BAR_MAX)
    cols = np.flatnonzero(probe.max(axis=0).max(axis=1) > _BAR_MAX)
    if rows.size < _BAR_KEEP * ph or cols.size < _BAR_KEEP * pw:
        return rgb
    # Mattes are symmetric: only as much as the thinner of two opposite bars is cut, so a night sky
    # above a lit street (dark at the top only) stays in the picture.
    bar_y = min(int(rows[0]), ph - 1 - int(rows[-1]))
    bar_x = min(int(cols[0]), pw - 1 - int(cols[-1]))
    if bar_y == 0 and bar_x == 0:
        return rgb
    # Back to the picture's own rows and columns, rounding inwards past the bars' soft edge.
    cut_y = int(np.ceil(bar_y * h / ph)) if bar_y else 0
    cut_x = int(np.ceil(bar_x * w / pw)) if bar_x else 0
    if h - 2 * cut_y < _BAR_KEEP * h or w - 2 * cut_x < _BAR_KEEP * w:
        return rgb
    return rgb[cut_y : h - cut_y, cut_x : w - cut_x]


def _analysis_lab(rgb: np.ndarray) -> np.ndarray:
    """The frame's picture area at the analysis size as float Lab (L 0..100, a and b about -100..100)."""
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise ValueError(f"describe_look needs an RGB picture H x W x 3, got shape {rgb.shape}")
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    if rgb.dtype == np.uint16:  # a 16-bit still: keep the top byte
        rgb = (rgb >> 8).astype(np.uint8)
    elif rgb.dtype != np.uint8:
        rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    # One area-averaging pass over the full frame (the only cost that grows with resolution), to
    # twice the analysis size: there the bars are found and cut, then the picture is halved again.
    probe = cv2.resize(rgb, _PROBE_SIZE, interpolation=cv2.INTER_AREA)
    small = cv2.resize(_picture_area(probe), ANALYSIS_SIZE, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _colour_layout(lab: np.ndarray) -> np.ndarray:
    grid = cv2.resize(lab, (8, 8), interpolation=cv2.INTER_AREA)
    # Centre and scale the channels so that a full swing of lightness and of a strong hue weigh alike.
    chans = ((grid[:, :, 0] - 50.0) / 25.0, grid[:, :, 1] / 20.0, grid[:, :, 2] / 20.0)
    parts = []
    for chan, keep in zip(chans, _LAYOUT_COEFFS, strict=True):
        coeffs = cv2.dct(np.ascontiguousarray(chan, dtype=np.float32))
        parts.append(np.array([coeffs[i, j] for i, j in _ZIGZAG[:keep]], np.float32))
    return _unit(np.concatenate([*parts, [1.0]]).astype(np.float32))


def _soft_bin(values: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear (soft) assignment of each value to its two nearest bin centres: lower bin, weight on it, weight on the next."""
    step = centres[1] - centres[0]
    pos = np.clip((values - centres[0]) / step, 0, len(centres) - 1 - 1e-6)
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    return lo, 1.0 - frac, frac


_L_CENTRES = np.array([12.5, 37.5, 62.5, 87.5], np.float32)
_AB_CENTRES = np.array([-30.0, -15.0, 0.0, 15.0, 30.0], np.float32)


# The palette is first counted in fine hard bins (4 units wide: below what a codec shifts) by
# OpenCV, then spread onto the coarse soft bins by fixed linear weights: the same soft histogram
# as assigning each pixel to its two nearest bins per channel, at a tenth of the cost.
_FINE_L = np.arange(2.0, 100.0, 4.0, dtype=np.float32)  # fine bin centres, 25 bins over 0..100
_FINE_AB = np.arange(-58.0, 60.0, 4.0, dtype=np.float32)  # 30 bins over -60..60 (stronger chroma is clipped)


def _spread(fine: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Weights (fine bins x coarse bins) of each fine bin's centre on the coarse bins."""
    lo, w0, w1 = _soft_bin(fine, centres)
    out = np.zeros((fine.size, centres.size), np.float32)
    out[np.arange(fine.size), lo] = w0
    out[np.arange(fine.size), lo + 1] += w1
    return out


_SPREAD_L = _spread(_FINE_L, _L_CENTRES)
_SPREAD_AB = _spread(_FINE_AB, _AB_CENTRES)


def _palette(lab: np.ndarray) -> np.ndarray:
    """Soft Lab histogram, square-rooted (Hellinger): unit length, and cosine = Bhattacharyya coefficient."""
    clipped = np.clip(lab, (0.0, -59.99, -59.99), (99.99, 59.99, 59.99)).astype(np.float32)
    fine = cv2.calcHist([clipped], [0, 1, 2], None, [_FINE_L.size, _FINE_AB.size, _FINE_AB.size], [0, 100, -60, 60, -60, 60])
    hist = np.einsum("lab,li,aj,bk->ijk", fine, _SPREAD_L, _SPREAD_AB, _SPREAD_AB, optimize=True).reshape(-1)
    return np.sqrt(hist / max(float(hist.sum()), 1e-12)).astype(np.float32)


def _cells(values: np.ndarray, grid: int = _GRID) -> np.ndarray:
    """Sum of ``values`` (H x W [x C]) over a grid x grid split of the frame, row-major."""
    h, w = values.shape[:2]
    ys = np.linspace(0, h, grid + 1).round().astype(int)
    xs = np.linspace(0, w, grid + 1).round().astype(int)
    return np.array([[values[ys[r] : ys[r + 1], xs[c] : xs[c + 1]].sum(axis=(0, 1)) for c in range(grid)] for r in range(grid)])


@functools.cache
def _cell_index(shape: tuple[int, int], grid: int = _GRID) -> np.ndarray:
    """For each pixel, its cell of the grid x grid split (row-major), as :func:`_cells` splits."""
    h, w = shape
    ys = np.linspace(0, h, grid + 1).round().astype(int)
    xs = np.linspace(0, w, grid + 1).round().astype(int)
    rows = np.searchsorted(ys, np.arange(h), side="right") - 1
    cols = np.searchsorted(xs, np.arange(w), side="right") - 1
    return rows[:, None] * grid + cols[None, :]


def _gradients(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return gx, gy, np.sqrt(gx * gx + gy * gy)


def _texture(light: np.ndarray, gx: np.ndarray, gy: np.ndarray, mag: np.ndarray) -> np.ndarray:
    # Edge orientation over the thirds grid (HOG-like, magnitude weighted, soft over orientation).
    theta = np.mod(np.arctan2(gy, gx), np.pi) / np.pi * _ORIENT_BINS - 0.5
    lo = np.floor(theta).astype(np.int64)
    frac = (theta - lo).astype(np.float32)
    cell = _cell_index(mag.shape) * _ORIENT_BINS
    orient = np.bincount(
        np.concatenate([(cell + lo % _ORIENT_BINS).ravel(), (cell + (lo + 1) % _ORIENT_BINS).ravel()]),
        weights=np.concatenate([(mag * (1 - frac)).ravel(), (mag * frac).ravel()]),
        minlength=_GRID * _GRID * _ORIENT_BINS,
    )
    # A floor of uniform mass: a flat frame (black, a fade) reads as "no direction", not as noise.
    floor = 0.5 * mag.size
    orient = np.sqrt((orient + floor / orient.size) / (orient.sum() + floor))
    # Gradient energy per cell at two scales, as logs centred on typical footage (about 3.5 L units
    # per pixel at the analysis size): fine texture (grass, hair) vs. broad shapes; the fine/coarse
    # ratio says how busy the frame is, the edge density how much of it is drawn.
    half = cv2.resize(light, (light.shape[1] // 2, light.shape[0] // 2), interpolation=cv2.INTER_AREA)
    _, _, mag2 = _gradients(half)

    def level(energy: np.ndarray | float) -> np.ndarray:
        return np.log((np.asarray(energy) + _ENERGY_FLOOR) / _ENERGY_TYPICAL)

    fine = level(_cells(mag).reshape(-1) / (mag.size / _GRID**2))
    coarse = level(_cells(mag2).reshape(-1) / (mag2.size / _GRID**2))
    mean_fine, mean_coarse = float(mag.mean()), float(mag2.mean())
    stats = np.array(
        [
            level(mean_fine),
            level(mean_coarse),
            np.log((mean_fine + _ENERGY_FLOOR) / (mean_coarse + _ENERGY_FLOOR)) * 2.0,
            (float((mag > 4.0).mean()) - 0.3) * 4.0,  # edge density: share of pixels on an edge
        ]
    )
    energy = np.concatenate([fine, coarse, stats])
    # Orientation is a distribution (unit length already); energy is signed, with a bias term.
    return np.concatenate([orient * np.sqrt(0.5), _unit(np.concatenate([energy, [1.0]])) * np.sqrt(0.5)]).astype(np.float32)


def _composition(light: np.ndarray, gy: np.ndarray, mag: np.ndarray) -> np.ndarray:
    h, w = light.shape
    area = h * w / _GRID**2
    mean_l = float(light.mean())
    bright = (_cells(light).reshape(-1) / area - mean_l) / 20.0  # which thirds are lighter or darker than the frame
    detail = _cells(mag).reshape(-1)
    detail = (detail / max(float(detail.sum()), 1e-6) - 1.0 / 9) * 9.0  # where the detail sits
    ys, xs = np.mgrid[0:h, 0:w]
    xs = (xs + 0.5) / w - 0.5
    ys = (ys + 0.5) / h - 0.5
    weight = np.abs(light - mean_l) + 1e-3  # the eye goes to what stands out from the frame's key
    edge_w = mag + 1e-3
    centroids = (
        np.array(
            [
                (weight * xs).sum() / weight.sum(),
                (weight * ys).sum() / weight.sum(),
                (edge_w * xs).sum() / edge_w.sum(),
                (edge_w * ys).sum() / edge_w.sum(),
            ]
        )
        * 4.0
    )
    # Horizon: the row where the strongest frame-wide horizontal boundary sits, and how strong it is.
    profile = cv2.GaussianBlur(np.abs(gy).mean(axis=1).reshape(-1, 1), (1, 5), 0).reshape(-1)
    # Rows well above the average pull the line towards them (a soft arg-max: two near-equal
    # boundaries do not make the horizon jump between them from one codec to the next).
    lift = np.maximum(profile - float(profile.mean()), 0.0) ** 2 + 1e-9
    row = float((lift * np.arange(h)).sum() / lift.sum())
    strength = np.log((float(profile.max()) + 0.05) / (float(profile.mean()) + 0.05))
    horizon = np.array([((row + 0.5) / h - 0.5) * 4.0, strength])
    # Symmetry: correlation of the frame with its mirror images (1 = symmetric).
    centred = light - mean_l
    norm = float((centred * centred).sum()) + 1e-6
    symmetry = np.array([(centred * centred[:, ::-1]).sum() / norm, (centred * centred[::-1, :]).sum() / norm]) * 2.0
    return _unit(np.concatenate([bright, detail, centroids, horizon, symmetry, [1.0]]).astype(np.float32))


def _blocks(rgb: np.ndarray) -> dict[str, np.ndarray]:
    lab = _analysis_lab(rgb)
    light = np.ascontiguousarray(lab[:, :, 0])
    gx, gy, mag = _gradients(light)
    return {
        "colour_layout": _colour_layout(lab),
        "palette": _palette(lab),
        "texture": _unit(_texture(light, gx, gy, mag)),
        "composition": _composition(light, gy, mag),
    }


def describe_look(rgb: np.ndarray) -> np.ndarray:
    """The look of one frame: a float32 vector of length :data:`LOOK_DIM`, L2-normalised.

    ``rgb`` is an H x W x 3 uint8 RGB picture of any size (a keyframe, a still, a decoded frame);
    an H x W grey picture, an alpha channel and 16-bit samples are accepted too.
    The dot product of two looks is their cosine similarity; it equals the weighted mean of the
    per-block cosines (weights :data:`BLOCK_SHARES`), so LanceDB's cosine and L2 distances rank
    the same.
    """
    blocks = _blocks(rgb)
    out = np.concatenate([blocks[name] * np.sqrt(BLOCK_SHARES[name]) for name in BLOCKS]).astype(np.float32)
    return _unit(out).astype(np.float32)


def look_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two looks are, 0..1 (1 = the same look).

    The cosine of the two vectors clipped at 0: ``max(0, a . b)`` for unit vectors, which is
    ``1 - d`` for LanceDB's cosine distance ``d``. Unrelated frames score about 0.3-0.6, frames of
    the same shot about 0.9 and the same frame through another codec or size above 0.97.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    cos = float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
    return float(min(1.0, max(0.0, cos)))


def explain_look(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Why two looks match: the cosine of each block (colour_layout, palette, texture, composition), each 0..1.

    Takes two vectors from :func:`describe_look`. Their weighted mean (weights
    :data:`BLOCK_SHARES`) is :func:`look_similarity` of the pair, except that a block which
    disagrees outright (negative cosine) shows as 0 here.
    """
    out = {}
    for name, (start, stop) in BLOCKS.items():
        out[name] = look_similarity(a[start:stop], b[start:stop])
    return out


def read_image(path: str | Path) -> np.ndarray:
    """A still (JPEG, PNG, WebP, ...) as an upright RGB uint8 array.

    Raises ``ValueError`` naming the file and the problem when it is missing, not a picture, or
    cannot be decoded.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{p}: cannot read: no such file")
    try:
        with Image.open(p) as opened:
            # a phone still stands the way it was shot
            rgb = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
    except UnidentifiedImageError:
        raise ValueError(f"{p}: not an image (JPEG, PNG or WebP expected)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{p}: cannot read the image: {exc}") from None
    if rgb.ndim != 3 or rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise ValueError(f"{p}: cannot read the image: picture of shape {rgb.shape}")
    return rgb
