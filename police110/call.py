"""110 on the call: the IVR's emergency transfer and the desk's three-way call.

The dialplan does the transfer itself (`hotline-police` in extensions.conf: Dial the
110 exchange with the citizen's number, else the general line with the emergency
flagged); the service only records how it ended. The three-way call is driven from
here over AMI. Wiring (composition root):

    recorder = TransferOutcomeRecorder(bus, ticket_outcomes)     # task: recorder.run()
    police_port = ThreeWayCaller(BridgeActions(bridge.send_action).send_action, bus,
                                 ticket_outcomes)                # desk's Police110Port
"""

from police110.call_outcome import (
    OUTCOMES,
    PoliceTransferOutcome,
    TransferOutcomePort,
    outcome_of,
)
from police110.call_recorder import PoliceDialTracker, TransferOutcomeRecorder
from police110.call_three_way import ThreeWayCaller, ThreeWaySettings

__all__ = [
    "OUTCOMES",
    "PoliceDialTracker",
    "PoliceTransferOutcome",
    "ThreeWayCaller",
    "ThreeWaySettings",
    "TransferOutcomePort",
    "TransferOutcomeRecorder",
    "outcome_of",
]
