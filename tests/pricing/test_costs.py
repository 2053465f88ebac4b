"""A request's pre-charge and expected charge from a price book (rdpipe.costs), in exact
quota units: (input-video s + output s) * w * h * 24 / 1024 * ratio * group ratio."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdpipe.catalog import load_catalog
from rdpipe.costs import estimate, plan_costs, video_reference_seconds
from rdpipe.plan import plan_run
from rdpipe.prices import BY_TOKENS, PER_CALL, ModelPrice, PriceBook, ShotCost
from rdpipe.render import RenderedShot
from rdpipe.request import GenerationRequest, LocalFile, Media

SD2_720 = "doubao-seedance-2-0-720p"
SD2_1080 = "doubao-seedance-2-0-1080p"


def _book(group_ratio: float = 1.0) -> PriceBook:
    prices = [
        ModelPrice("doubao-seedance-2-0-480p", BY_TOKENS, 5.0, 0.0),
        ModelPrice(SD2_720, BY_TOKENS, 10.0, 0.0),
        ModelPrice(SD2_1080, BY_TOKENS, 22.5, 0.0),
        ModelPrice("seedance-1-5-pro-no-audio", BY_TOKENS, 8.0, 0.0),
        ModelPrice("per-call", PER_CALL, 0.0, 0.35),
        ModelPrice("tiered", BY_TOKENS, 10.0, 0.0, tiered=True),
        ModelPrice("odd-type", 7, 10.0, 0.0),
    ]
    return PriceBook("v1", {price.model: price for price in prices}, group_ratio)


def _video(duration: float | None) -> LocalFile:
    return LocalFile(
        kind="video", role="reference_video", path=Path("walk.mp4"), shown="walk.mp4", size=1,
        md5="0" * 32, sha256="1" * 64, extension="mp4", content_type="video/mp4",
        send_as="hosted", duration=duration,
    )  # fmt: skip


def test_5_s_720p_16_9_at_ratio_10_is_1_080_000_units() -> None:
    request = GenerationRequest(SD2_720, "a", "5").with_settings(ratio="16:9")
    # 5 * 1280 * 720 * 24 / 1024 = 108,000 tokens, * 10
    assert estimate(request, _book(), input_video_seconds=None) == ShotCost(1_080_000, 1_080_000)


def test_the_resolution_comes_from_the_seedance_2_model_id_and_no_ratio_is_16_9() -> None:
    request = GenerationRequest(SD2_1080, "a", "4")
    # 4 * 1920 * 1080 * 24 / 1024 = 194,400 tokens, * 22.5
    assert estimate(request, _book(), input_video_seconds=None) == ShotCost(4_374_000, 4_374_000)


def test_a_portrait_ratio_counts_the_same_pixels_and_480p_is_864_wide() -> None:
    request = GenerationRequest("doubao-seedance-2-0-480p", "a", "10").with_settings(ratio="9:16")
    # 10 * 480 * 864 * 24 / 1024 = 97,200 tokens, * 5
    assert estimate(request, _book(), input_video_seconds=None) == ShotCost(486_000, 486_000)


def test_adaptive_counts_the_largest_frame_of_its_resolution() -> None:
    request = GenerationRequest(SD2_720, "a", "5").with_settings(ratio="adaptive")
    # 21:9 at 720p is 1680 x 720: 5 * 1680 * 720 * 24 / 1024 = 141,750 tokens, * 10
    assert estimate(request, _book(), input_video_seconds=None) == ShotCost(1_417_500, 1_417_500)


def test_a_model_with_resolutions_renders_its_default_unless_the_request_names_one() -> None:
    model = "seedance-1-5-pro-no-audio"
    default = GenerationRequest(model, "a", "5")
    named = default.with_settings(resolution="480p")
    assert estimate(default, _book(), input_video_seconds=None) == ShotCost(864_000, 864_000)
    assert estimate(named, _book(), input_video_seconds=None) == ShotCost(388_800, 388_800)


def test_the_group_ratio_multiplies_both() -> None:
    request = GenerationRequest(SD2_720, "a", "5")
    assert estimate(request, _book(0.5), input_video_seconds=None) == ShotCost(540_000, 540_000)


def test_a_video_reference_adds_15_s_to_the_precharge_and_its_own_length_to_the_expected() -> None:
    request = GenerationRequest(SD2_720, "a", "5").with_content([_video(4.0)])
    # per second 21,600 tokens * 10 = 216,000 units; pre-charge (5 + 15) s, expected (5 + 4) s
    assert estimate(request, _book(), input_video_seconds=None) == ShotCost(4_320_000, 1_944_000)


def test_a_video_url_counts_15_s_and_the_caller_may_say_the_input_seconds() -> None:
    url = Media("video", "https://example.com/walk.mp4", "reference_video")
    request = GenerationRequest(SD2_720, "a", "5").with_content([url])
    assert video_reference_seconds(request) == 15.0
    assert estimate(request, _book(), input_video_seconds=None) == ShotCost(4_320_000, 4_320_000)
    told = estimate(request, _book(), input_video_seconds=2.5)
    assert told == ShotCost(4_320_000, 1_620_000)  # (5 + 2.5) * 216,000


def test_video_reference_seconds_add_up_and_images_do_not_count() -> None:
    image = Media("image", "https://example.com/a.png", "reference_image")
    unknown = _video(None)
    request = GenerationRequest(SD2_720, "a", "5").with_content([image, _video(3.5), unknown])
    assert video_reference_seconds(request) == 18.5
    assert video_reference_seconds(GenerationRequest(SD2_720, "a", "5")) is None


def test_a_request_without_whole_seconds_is_precharged_the_models_maximum() -> None:
    request = GenerationRequest(SD2_720, "a", "")
    # the maximum of Seedance 2.0 is 15 s: 15 * 216,000
    assert estimate(request, _book(), input_video_seconds=None) == ShotCost(3_240_000, 3_240_000)


def test_a_per_call_model_costs_its_price_in_units_whatever_it_makes() -> None:
    long = GenerationRequest("per-call", "a", "12").with_content([_video(9.0)])
    assert estimate(long, _book(), input_video_seconds=None) == ShotCost(175_000, 175_000)
    assert estimate(long, _book(2.0), input_video_seconds=None) == ShotCost(350_000, 350_000)


@pytest.mark.parametrize("model", ["tiered", "odd-type", "not-in-the-book"])
def test_a_model_the_book_does_not_price_plainly_has_no_estimate(model: str) -> None:
    assert estimate(GenerationRequest(model, "a", "5"), _book(), input_video_seconds=None) is None


def test_a_frame_the_catalog_does_not_know_has_no_estimate() -> None:
    book = PriceBook("v", {"new-model": ModelPrice("new-model", BY_TOKENS, 1.0, 0.0)})
    unknown = GenerationRequest("new-model", "a", "5")  # no resolution, none in its id
    assert estimate(unknown, book, input_video_seconds=None) is None
    odd = GenerationRequest(SD2_720, "a", "5").with_settings(ratio="2:1")
    assert estimate(odd, _book(), input_video_seconds=None) is None


def test_the_catalogs_frame_sizes_are_the_simulators() -> None:
    from rdpipe.sim.catalog import RATIOS, RESOLUTIONS, frame_size

    catalog = load_catalog()
    for resolution in RESOLUTIONS:
        for ratio in RATIOS:
            assert catalog.frame_size(resolution, ratio) == frame_size(resolution, ratio)


def test_plan_costs_total_the_jobs_to_generate_and_name_the_models_not_priced() -> None:
    shots = [
        RenderedShot(0, "a", GenerationRequest(SD2_720, "a", "5")),
        RenderedShot(1, "b", GenerationRequest(SD2_1080, "b", "4")),
        RenderedShot(2, "c", GenerationRequest("tiered", "c", "5")),
        RenderedShot(3, "d", GenerationRequest(SD2_720, "a", "5")),  # the same request as a
    ]
    costs = plan_costs(plan_run("p", shots), _book())
    assert costs.of("a") == costs.of("d") == ShotCost(1_080_000, 1_080_000)
    assert costs.of("c") is None
    assert costs.total == ShotCost(5_454_000, 5_454_000)  # a and b; d reuses a's clip
    assert costs.unpriced == ("tiered",)
    assert not costs.complete
