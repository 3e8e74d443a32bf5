"""instance_io: every MAST rate instance survives a JSON round trip with the same verdict."""

import json

import numpy as np
import pytest
from mastbench.theory import FieldBag

from mastbench import theory
from mastbench.instance_io import decode_instance, encode_instance, load_instance, save_instance
from mastbench.sketches import Bernoulli, Discrete, Gaussian, Identity, Permutation, RandK
from mastbench.verify import verify

ROUND_TRIP = [
    "mast.sc",
    "mast.nc",
    "mast.dist",
    "mast.dist-dmax",
    "mast.vr",
    "mast.abc",
    "fw.jaggi-primal",
    "fw.invariants",
    "fw.reference",
    "ramda.pg-solver",
    "seqattn.threshold",
    "seqattn.iht",
]
FALSIFIABLE = [t.id for t in theory.all() if t.strategy is not None]


@pytest.mark.parametrize("theorem_id", FALSIFIABLE)
def test_every_falsifiable_theorem_has_instances_with_a_json_form(theorem_id):
    """What falsify prints for a counterexample: the instance file verify --instance loads."""
    instance = theory.get(theorem_id).instances(True)[0]
    data = json.loads(json.dumps(encode_instance(instance, theorem_id)))
    named, loaded, _ = decode_instance(data)
    assert named == theorem_id and type(loaded) is type(instance)
    assert json.dumps(encode_instance(loaded, theorem_id)) == json.dumps(data)


@pytest.mark.parametrize("theorem_id", ROUND_TRIP)
def test_round_trip_gives_the_same_evidence(theorem_id, tmp_path):
    thm = theory.get(theorem_id)
    instance = thm.instances(True)[-1]
    path = tmp_path / "instance.json"
    save_instance(path, instance, theorem_id, {"note": (1, 2.5)})
    named, loaded, params = load_instance(path)
    assert named == theorem_id and loaded.name == instance.name and params == {"note": (1, 2.5)}
    a, b = verify(thm, instance), verify(thm, loaded)
    assert a.status == b.status
    np.testing.assert_array_equal(a.evidence.measured, b.evidence.measured)
    np.testing.assert_array_equal(a.evidence.bound, b.evidence.bound)


@pytest.mark.parametrize(
    "sketch",
    [
        Bernoulli(np.array([0.001, 0.5])),
        RandK(3, 1),
        Identity(2),
        Permutation(4, 2),
        Gaussian(3, 2),
        Discrete(*RandK(3, 2).support()),
    ],
    ids=repr,
)
def test_sketches_round_trip(sketch):
    data = json.loads(json.dumps(encode_instance(FieldBag("s", sketch=sketch))))
    again = decode_instance(data)[1].sketch
    assert type(again) is type(sketch) and repr(again) == repr(sketch)
    np.testing.assert_array_equal(again.L_D, sketch.L_D)


def test_values_without_a_json_form_are_named():
    with pytest.raises(TypeError, match="weird: a object has no JSON instance form"):
        encode_instance(FieldBag("x", weird=object()))


def test_bad_files_give_clear_errors(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        load_instance(path)
    path.write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="mastbench-instance/1"):
        load_instance(path)
    with pytest.raises(ValueError, match="unknown sketch kind"):
        decode_instance(
            {"format": "mastbench-instance/1", "name": "x", "fields": {"s": {"sketch": "nope"}}}
        )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"object": "mastbench.results:ResultStore", "args": {"root": "/"}}, "only classes of"),
        ({"object": "mastbench.problems.constraints:L1Ball", "args": {}}, "cannot be rebuilt"),
        ({"object": "mastbench.problems.constraints:L1Ball", "args": [1]}, "must be a JSON object"),
        ({"object": "mastbench.problems.constraints:Nope", "args": {}}, "which is no class"),
    ],
)
def test_a_bad_object_entry_is_refused_by_name(entry, message):
    data = {"format": "mastbench-instance/1", "name": "x", "fields": {"constraint": entry}}
    with pytest.raises(ValueError, match=message):
        decode_instance(data)
