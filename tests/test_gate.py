"""The REST channel's turn gate (bot/rasa/channels/gate.py): a limit, first come first served, emergencies first."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

from bot.core.safety import NOW, SafetyNet
from bot.rasa.channels.gate import TurnGate


async def run_turns(gate: TurnGate, texts: List[str], started: List[str], work: float = 0.02) -> int:
    """All turns arrive together (in list order); returns the most that ran at once."""
    peak = 0

    async def turn(text: str) -> None:
        nonlocal peak
        async with gate.turn(text):
            started.append(text)
            peak = max(peak, gate.running)
            await asyncio.sleep(work)

    tasks = []
    for text in texts:
        tasks.append(asyncio.create_task(turn(text)))
        await asyncio.sleep(0)  # arrival order
    await asyncio.gather(*tasks)
    return peak


def test_at_most_the_limit_run_and_the_rest_are_served_in_arrival_order() -> None:
    gate = TurnGate(2)
    started: List[str] = []
    peak = asyncio.run(run_turns(gate, [f"message {n}" for n in range(8)], started))
    assert peak == 2
    assert started == [f"message {n}" for n in range(8)]
    assert gate.running == 0 and gate.queued == 0


def test_an_emergency_jumps_the_queue_and_the_safety_net_runs_only_on_waiting_messages() -> None:
    net = SafetyNet.from_settings()
    checked: List[str] = []

    def urgent(text: str) -> bool:
        checked.append(text)
        decision = net.decide(text)
        return decision is not None and decision.outcome == NOW

    gate = TurnGate(1, urgent)
    started: List[str] = []
    emergency = "my son took all his pills and won't wake up"
    texts = ["what is dbt", "what is a taper", "how long does detox take", emergency]
    asyncio.run(run_turns(gate, texts, started))
    assert started[0] == "what is dbt"  # it was running already
    assert started[1] == emergency
    assert started[2:] == ["what is a taper", "how long does detox take"]
    assert "what is dbt" not in checked  # no wait, no check


def test_a_turn_cancelled_while_waiting_or_failing_gives_its_place_back() -> None:
    async def scenario() -> TurnGate:
        gate = TurnGate(1)
        release = asyncio.Event()

        async def holder() -> None:
            async with gate.turn("first"):
                await release.wait()

        async def failing() -> None:
            async with gate.turn("fails"):
                raise RuntimeError("the turn failed")

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(failing())
        cancelled = asyncio.create_task(gate.turn("client went away").__aenter__())
        await asyncio.sleep(0)
        assert gate.queued == 2
        cancelled.cancel()
        await asyncio.sleep(0)
        assert gate.queued == 1
        release.set()
        await first
        with pytest.raises(RuntimeError):
            await waiter
        async with gate.turn("later"):
            assert gate.running == 1
        return gate

    gate = asyncio.run(scenario())
    assert gate.running == 0 and gate.queued == 0


def test_a_turn_cancelled_just_before_the_slot_is_handed_over_is_cancelled_and_the_slot_moves_on() -> None:
    """The ordering: the waiting turn is cancelled (its ticket with it), then the running turn finishes and hands
    its place over before the cancelled turn runs again. The cancelled ticket is already out of the queue then."""

    async def scenario() -> tuple[TurnGate, List[str]]:
        gate = TurnGate(1)
        release = asyncio.Event()
        started: List[str] = []

        async def turn(text: str, hold: bool = False) -> None:
            async with gate.turn(text):
                started.append(text)
                if hold:
                    await release.wait()

        first = asyncio.create_task(turn("first", hold=True))
        await asyncio.sleep(0)
        cancelled = asyncio.create_task(turn("client went away"))
        after = asyncio.create_task(turn("next in line"))
        await asyncio.sleep(0)
        assert gate.queued == 2
        release.set()  # "first" wakes up next and hands its place over ...
        cancelled.cancel()  # ... after this cancellation, before the cancelled turn runs its except clause
        await first
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await after
        return gate, started

    gate, started = asyncio.run(scenario())
    assert started == ["first", "next in line"]
    assert gate.running == 0 and gate.queued == 0


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TurnGate(0)
