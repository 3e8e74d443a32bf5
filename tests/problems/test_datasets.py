"""Data sets: sklearn's bundled sets, LIBSVM files (plain and gzip), splits, errors."""

import gzip

import numpy as np
import pytest
from mastbench.problems import datasets
from mastbench.problems.datasets import Dataset, cache_dir, catalogue, load, load_libsvm

TINY = "+1 1:0.5 3:2\n-1 2:1.5\n+1 1:-1 2:1 3:1\n-1 3:4\n"
TINY_X = np.array([[0.5, 0, 2], [0, 1.5, 0], [-1, 1, 1], [0, 0, 4]])


@pytest.fixture
def tiny_dir(tmp_path):
    """A directory with a LIBSVM set under a registered name (a1a), gzip-compressed."""
    with gzip.open(tmp_path / "a1a.gz", "wt") as handle:
        handle.write(TINY)
    return tmp_path


def test_catalogue_lists_every_set_with_a_description():
    names = catalogue()
    expected = {"breast_cancer", "digits", "diabetes", "wine", "iris", "a1a", "a5a", "a9a"}
    assert expected <= set(names) and "mushrooms" in names and "w8a" in names
    assert all(isinstance(desc, str) and desc for desc in names.values())


@pytest.mark.parametrize(
    ("name", "shape", "task"),
    [
        ("breast_cancer", (569, 30), "binary"),
        ("digits", (1797, 64), "multiclass"),
        ("diabetes", (442, 10), "regression"),
        ("wine", (178, 13), "multiclass"),
        ("iris", (150, 4), "multiclass"),
    ],
)
def test_sklearn_sets(name, shape, task):
    ds = load(name)
    assert isinstance(ds, Dataset) and ds.X.shape == shape and ds.y.shape == (shape[0],)
    assert ds.task == task and ds.X.dtype == np.float64 and (ds.n, ds.d) == shape
    if task == "binary":
        assert set(np.unique(ds.y)) == {-1.0, 1.0}


def test_breast_cancer_positive_class_is_benign():
    from sklearn.datasets import load_breast_cancer

    raw = load_breast_cancer().target
    np.testing.assert_array_equal(load("breast_cancer").y, np.where(raw == 1, 1.0, -1.0))


def test_one_vs_rest_on_multiclass():
    ds = load("iris", binary=2)
    assert ds.task == "binary" and set(np.unique(ds.y)) == {-1.0, 1.0}
    assert int(np.sum(ds.y == 1)) == 50


def test_load_libsvm_plain_and_gz_agree(tmp_path):
    (tmp_path / "tiny").write_text(TINY)
    with gzip.open(tmp_path / "tiny.gz", "wt") as handle:
        handle.write(TINY)
    X, y = load_libsvm(tmp_path / "tiny")
    Xg, yg = load_libsvm(tmp_path / "tiny.gz")
    np.testing.assert_array_equal(X, TINY_X)
    np.testing.assert_array_equal(y, [1, -1, 1, -1])
    np.testing.assert_array_equal(Xg, X)
    np.testing.assert_array_equal(yg, y)


def test_load_libsvm_pads_to_declared_features_and_keeps_csr(tmp_path):
    (tmp_path / "tiny").write_text(TINY)
    X, _ = load_libsvm(tmp_path / "tiny", n_features=5)
    assert X.shape == (4, 5) and np.all(X[:, 3:] == 0)
    sparse, _ = load_libsvm(tmp_path / "tiny", dense=False)
    assert sparse.format == "csr"
    np.testing.assert_array_equal(sparse.toarray(), TINY_X)
    with pytest.raises(ValueError, match="n_features"):
        load_libsvm(tmp_path / "tiny", n_features=2)


def test_load_by_name_from_data_dir_with_test_file(tiny_dir):
    with gzip.open(tiny_dir / "a1a.t.gz", "wt") as handle:
        handle.write("-1 1:1\n+1 2:2\n")
    ds = load("a1a", data_dir=tiny_dir)
    assert ds.X.shape == (4, 123) and ds.X_test.shape == (2, 123)
    np.testing.assert_array_equal(ds.X[:, :3], TINY_X)
    np.testing.assert_array_equal(ds.y_test, [-1, 1])


def test_environment_variable_is_searched(tiny_dir, monkeypatch):
    monkeypatch.setenv("MASTBENCH_DATA", str(tiny_dir))
    assert load("a1a").n == 4


def test_cache_dir_is_searched(tiny_dir, monkeypatch):
    monkeypatch.delenv("MASTBENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tiny_dir))
    (tiny_dir / "mastbench").mkdir()
    (tiny_dir / "a1a.gz").rename(tiny_dir / "mastbench" / "a1a.gz")
    assert cache_dir() == tiny_dir / "mastbench"
    assert load("a1a").n == 4


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MASTBENCH_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="MASTBENCH_DATA") as info:
        load("a5a")
    assert str(tmp_path / "nowhere") in str(info.value) and datasets.LIBSVM_URL in str(info.value)


def test_split_is_seeded_and_disjoint():
    a = load("wine", test_size=0.25, seed=3)
    b = load("wine", test_size=0.25, seed=3)
    c = load("wine", test_size=0.25, seed=4)
    assert a.X.shape[0] + a.X_test.shape[0] == 178 and a.X_test.shape[0] == round(0.25 * 178)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)
    rows = {tuple(r) for r in a.X} & {tuple(r) for r in a.X_test}
    assert not rows
    assert load("wine", test_size=10).X_test.shape[0] == 10


def test_standardize_uses_training_statistics():
    ds = load("diabetes", standardize=True, test_size=0.3, seed=1)
    np.testing.assert_allclose(ds.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.X.std(axis=0), 1, rtol=1e-12)
    assert np.abs(ds.X_test.mean(axis=0)).max() > 1e-6


def test_arrays_in_a_namespace(xp):
    X, y = load("iris").arrays(xp.xp, xp.device)
    assert X.shape == (150, 4) and X.dtype == xp.xp.float64 and y.shape == (150,)
    if xp.device is not None:
        assert X.device == xp.device and y.device == xp.device
    with pytest.raises(ValueError, match="no test split"):
        load("iris").arrays(test=True)


def test_bad_input():
    with pytest.raises(ValueError, match=r"known data sets: .*a5a"):
        load("a6a")
    with pytest.raises(ValueError, match="test_size"):
        load("iris", test_size=1.5)
    with pytest.raises(ValueError, match="test_size"):
        load("iris", test_size=150)
    with pytest.raises(TypeError, match="test_size"):
        load("iris", test_size="half")
    with pytest.raises(ValueError, match="binary"):
        load("iris", binary=7)
    with pytest.raises(ValueError, match="binary"):
        load("diabetes", binary=1)
    with pytest.raises(ValueError, match="standardize"):
        load("iris", standardize=True, dense=False)
    with pytest.raises(ValueError, match="seed"):
        load("iris", seed=-1)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        load_libsvm(tmp_path / "absent")
    (tmp_path / "broken").write_text("this is not libsvm\n")
    with pytest.raises(ValueError, match="not a valid LIBSVM file"):
        load_libsvm(tmp_path / "broken")
    (tmp_path / "a1a").write_text("1 1:1\n2 1:2\n3 2:1\n")
    with pytest.raises(ValueError, match="should be binary"):
        load("a1a", data_dir=tmp_path)


@pytest.mark.parametrize(
    ("name", "shape"),
    [("a1a", (1605, 123)), ("a5a", (6414, 123)), ("mushrooms", (8124, 112))],
)
def test_libsvm_sets(libsvm_dir, name, shape):
    ds = load(name, data_dir=libsvm_dir)
    assert ds.X.shape == shape and set(np.unique(ds.y)) == {-1.0, 1.0}
    assert np.all(np.isfinite(ds.X))
