"""The power of the suite, as a number: inject realistic faults, see which theorems catch them.

``mastbench power`` applies every fault of the catalogue (:mod:`.catalogue`) to its algorithm
by wrapping the method's ``step`` (:mod:`.inject`, the source is not edited), runs the
family's theorems on their built-in instances, and prints the detection matrix and the
fraction of faults detected (:mod:`.detect`).
"""

from mastbench.power.catalogue import KINDS, Fault, catalogue, get_fault
from mastbench.power.detect import FaultResult, PowerReport, detect, power

__all__ = [
    "KINDS",
    "Fault",
    "FaultResult",
    "PowerReport",
    "catalogue",
    "detect",
    "get_fault",
    "power",
]
