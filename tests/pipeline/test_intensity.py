"""Intensity ops and stages, filters and PCA: hand-computed values and library references."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import exposure

from pipeline.errors import StageError
from pipeline.ops.filters import denoise_median, denoise_nl_means, denoise_tv, equalize_clahe
from pipeline.ops.intensity import (
    adjust_gamma,
    clip_intensity,
    normalize_zscore,
    rescale_intensity,
    scale_percentiles,
    subtract_mean,
)
from pipeline.ops.pca import fit_pca, project_pca, reconstruct_pca
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from pipeline.stages import (
    CLAHE,
    PCA,
    CenterIntensity,
    RescaleIntensity,
    ScalePercentiles,
    ZScore,
)
from tests.conftest import make_sample

X = np.array([[[0.0, 2.0], [4.0, 10.0]]], dtype=np.float32)  # mean 4, std 3.7417


def _s(image: np.ndarray) -> Sample:
    return Sample(image=np.asarray(image, np.float32), meta={"id": "x"})


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (lambda x: clip_intensity(x, 1, 5), [[1, 2], [4, 5]]),
        (lambda x: rescale_intensity(x), [[0, 0.2], [0.4, 1]]),
        (lambda x: rescale_intensity(x, (0, 4), (-1, 1)), [[-1, 0], [1, 1]]),
        (lambda x: rescale_intensity(x, (0, 4), (-1, 1), clip=False), [[-1, 0], [1, 4]]),
        (lambda x: subtract_mean(x), [[-4, -2], [0, 6]]),
        (lambda x: subtract_mean(x, 2.0), [[-2, 0], [2, 8]]),
        (lambda x: normalize_zscore(x, 4.0, 2.0), [[-2, -1], [0, 3]]),
        (lambda x: adjust_gamma(x, 2.0), [[0, 0.4], [1.6, 10]]),
    ],
    ids=["clip", "minmax", "in-range", "no-clip", "center", "center-given", "zscore", "gamma"],
)
def test_intensity_ops_hand_computed(fn: object, expected: list[list[float]]) -> None:
    out = fn(X)  # type: ignore[operator]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(X, [[[0, 2], [4, 10]]])  # input untouched


def test_zscore_per_image_has_zero_mean_unit_std() -> None:
    out = normalize_zscore(X)
    assert abs(float(out.mean())) < 1e-6 and abs(float(out.std()) - 1) < 1e-6
    assert np.all(normalize_zscore(np.full((1, 2, 2), 7.0)) == 0)  # constant: no inf


def test_scale_percentiles_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 20, 20)).astype(np.float32)
    lo, hi = np.percentile(x, [5, 95])
    expected = np.clip((x - lo) / (hi - lo), 0, 1)
    np.testing.assert_allclose(scale_percentiles(x, 5, 95), expected, atol=1e-6)
    with pytest.raises(ValueError, match="lower < upper"):
        scale_percentiles(x, 90, 10)


def test_dataset_zscore_uses_pooled_training_statistics() -> None:
    train = [_s(np.full((1, 2, 2), 1.0)), _s(np.full((1, 2, 2), 3.0))]  # pooled mean 2, std 1
    stage = ZScore(mode="dataset").fit(train)
    assert stage.mean_ == pytest.approx(2.0) and stage.std_ == pytest.approx(1.0)
    np.testing.assert_allclose(stage(_s(np.full((1, 1, 2), 5.0))).image, 3.0)


def test_dataset_centring_subtracts_the_training_mean_not_the_images() -> None:
    # training pixels 1, 2, 3, 4 and 5, 6, 7, 8: mean 4.5; the image's own mean (15) is not it
    train = [_s(np.arange(1.0, 5.0).reshape(1, 2, 2)), _s(np.arange(5.0, 9.0).reshape(1, 2, 2))]
    stage = CenterIntensity(mode="dataset").fit(train)
    assert stage.mean_ == pytest.approx(4.5)
    np.testing.assert_allclose(stage(_s(np.array([[[10.0, 20.0]]]))).image, [[[5.5, 15.5]]])


def test_dataset_stages_refuse_to_run_unfitted() -> None:
    with pytest.raises(StageError, match="not fitted"):
        ZScore(mode="dataset")(make_sample())
    with pytest.raises(StageError, match="not fitted"):
        CenterIntensity(mode="dataset")(make_sample())


def test_dataset_percentiles_fitted_and_saved(tmp_path: object) -> None:
    train = [_s(np.arange(50, dtype=np.float32).reshape(1, 5, 10) + 50 * i) for i in range(2)]
    stage = ScalePercentiles(lower=0, upper=100, mode="dataset").fit(train)
    np.testing.assert_allclose(stage.in_range_, [0, 99])
    pipe = Pipeline([("p", stage)])
    pipe.save(tmp_path)  # type: ignore[arg-type]
    loaded = Pipeline.load(tmp_path)  # type: ignore[arg-type]
    out = loaded(_s(np.array([[[0.0, 49.5, 99.0]]])))
    np.testing.assert_allclose(out.image, [[[0.0, 0.5, 1.0]]], atol=1e-6)


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="'mode' parameter of ZScore"):
        ZScore(mode="global")
    with pytest.raises(ValueError, match="'out_range' parameter of RescaleIntensity"):
        RescaleIntensity(out_range=(0, 1, 2))


def test_median_removes_salt_noise() -> None:
    x = np.zeros((1, 5, 5), np.float32)
    x[0, 2, 2] = 100
    assert denoise_median(x, 3).max() == 0


def test_tv_and_nl_means_reduce_noise() -> None:
    rng = np.random.default_rng(1)
    clean = np.zeros((1, 32, 32), np.float32)
    clean[0, 8:24, 8:24] = 1
    noisy = clean + rng.normal(0, 0.2, clean.shape).astype(np.float32)
    err = float(np.abs(noisy - clean).mean())
    assert float(np.abs(denoise_tv(noisy, 0.1) - clean).mean()) < 0.6 * err
    assert float(np.abs(denoise_nl_means(noisy, h=0.2) - clean).mean()) < 0.6 * err


def test_clahe_matches_scikit_image_on_unit_range() -> None:
    rng = np.random.default_rng(2)
    x = rng.random((1, 32, 32)).astype(np.float32)
    x[0, 0, 0], x[0, 0, 1] = 0.0, 1.0  # range exactly [0, 1]: no rescaling difference
    ref = exposure.equalize_adapthist(x[0], clip_limit=0.02)
    np.testing.assert_allclose(equalize_clahe(x, 0.02)[0], ref, atol=1e-6)
    out = CLAHE()(Sample(image=x * 1000 - 500))
    assert out.image.min() >= 0 and out.image.max() <= 1


def test_pca_matches_scikit_learn() -> None:
    from sklearn.decomposition import PCA as SkPCA

    rng = np.random.default_rng(3)
    data = rng.normal(size=(12, 20)) @ rng.normal(size=(20, 20))
    fit = fit_pca(data, n_components=4)
    sk = SkPCA(n_components=4).fit(data)
    np.testing.assert_allclose(fit.explained_variance, sk.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(fit.explained_variance_ratio, sk.explained_variance_ratio_)
    # Same components up to sign.
    np.testing.assert_allclose(np.abs(fit.components), np.abs(sk.components_), atol=1e-8)
    scores = project_pca(data, fit.mean, fit.components)
    np.testing.assert_allclose(np.abs(scores), np.abs(sk.transform(data)), atol=1e-8)
    full = fit_pca(data, n_components=12)
    back = reconstruct_pca(
        project_pca(data, full.mean, full.components), full.mean, full.components
    )
    np.testing.assert_allclose(back, data, atol=1e-8)  # N-1 = 11 dims span the centred data


def test_pca_variance_target_and_stage_inverse() -> None:
    rng = np.random.default_rng(4)
    basis = rng.normal(size=(2, 64))
    samples = [_s((rng.normal(size=2) @ basis).reshape(1, 8, 8)) for _ in range(10)]
    stage = PCA(variance=0.99).fit(samples)
    assert stage.components_.shape == (2, 64)  # the data lie in a 2-D subspace
    out = stage(samples[3])
    assert out.image.shape == (2, 1, 1) and out.mask is None
    np.testing.assert_allclose(stage.inverse(out), samples[3].image, atol=1e-4)
    with pytest.raises(ValueError, match="exactly one"):
        PCA(n_components=2, variance=0.9)


def test_pca_stage_scores_new_images_as_scikit_learn_does() -> None:
    """Mutation: the PCA stage projecting without its fitted mean (or another fit's). The
    stage, fitted on 12 training images of 2x5, scores 3 new ones as scikit-learn's PCA
    fitted on the same flattened training images (sign per component aligned)."""
    from sklearn.decomposition import PCA as SkPCA

    rng = np.random.default_rng(5)
    train = rng.normal(size=(12, 10)) @ rng.normal(size=(10, 10)) + 7.0
    new = rng.normal(size=(3, 10)) + 7.0
    stage = PCA(n_components=3).fit([_s(x.reshape(1, 2, 5)) for x in train])
    sk = SkPCA(n_components=3).fit(train)
    sign = np.sign((stage.components_ * sk.components_).sum(axis=1))
    scores = np.stack([stage(_s(x.reshape(1, 2, 5))).image.ravel() for x in new])
    np.testing.assert_allclose(scores, sk.transform(new) * sign, rtol=1e-5, atol=1e-4)


def test_dataset_percentiles_are_the_training_sets_at_lower_and_upper() -> None:
    # training pixels 0..100: the 10th and 90th percentiles are 10 and 90 (numpy's linear
    # rule lands on the values); a new image is mapped by them, not by its own percentiles
    train = [
        _s(np.arange(0.0, 51.0).reshape(1, 3, 17)),
        _s(np.arange(51.0, 101.0).reshape(1, 5, 10)),
    ]
    stage = ScalePercentiles(lower=10, upper=90, mode="dataset").fit(train)
    np.testing.assert_allclose(stage.in_range_, [10.0, 90.0])
    out = stage(_s(np.array([[[-20.0, 10.0, 50.0, 90.0, 130.0]]])))
    np.testing.assert_allclose(out.image, [[[0.0, 0.0, 0.5, 1.0, 1.0]]], atol=1e-6)
