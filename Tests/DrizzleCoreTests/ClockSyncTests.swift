import DrizzleCore
import Testing

private let peer = NodeID(high: 0, low: 7)
private let second: Int64 = 1_000_000_000
private let millisecond: Int64 = 1_000_000

/// A probe sent at raw time `sent` to a peer whose synchronised clock is `peerAhead` ahead of this
/// node's raw clock, travelling `out` there and `back` again; the answer is handed over on arrival.
@discardableResult
private func exchange(
    _ sync: inout ClockSync, at sent: Int64, peerAhead: Int64, out: Int64 = millisecond, back: Int64 = millisecond,
    stratum: UInt8 = 255
) -> ClockMessage? {
    guard case .probe(let t1, _) = sync.probe(at: Instant(nanoseconds: sent)) else { return nil }
    // The peer stamps t2 = t3 with its own clock when the probe arrives.
    let peerTime = sent + out + peerAhead
    let answer = ClockMessage.answer(t1: t1, t2: peerTime, t3: peerTime, stratum: stratum)
    sync.receive(answer, from: peer, at: Instant(nanoseconds: sent + out + back))
    return answer
}

@Suite("Clock synchronisation: NTP samples on probes, drift by regression, slewing")
struct ClockSyncTests {
    let start: Int64 = 1_767_225_600 * 1_000_000_000

    @Test("an exchange with equal one-way delays measures the peer's offset exactly, and its delay")
    func symmetricSample() {
        var sync = ClockSync(now: Instant(nanoseconds: start))
        exchange(&sync, at: start + second, peerAhead: 50 * millisecond, out: 700_000, back: 700_000)
        let estimate = sync.estimate(at: Instant(nanoseconds: start + second + 1_400_000))
        #expect(sync.exchanges == 1)
        #expect(estimate.samples == 1)
        #expect(estimate.offsetNanoseconds == 50 * millisecond)
        #expect(estimate.peersSampled == 1)
    }

    @Test("unequal one-way delays err by half their difference, never more than half the round trip")
    func asymmetricSample() {
        var sync = ClockSync(now: Instant(nanoseconds: start))
        // 1.5 ms out, 0.5 ms back: the sample is 0.5 ms off.
        exchange(&sync, at: start + second, peerAhead: -20 * millisecond, out: 1_500_000, back: 500_000)
        let offset = sync.estimate(at: Instant(nanoseconds: start + second + 2 * millisecond)).offsetNanoseconds
        #expect(offset == -20 * millisecond + 500_000)
        #expect(abs(offset - -20 * millisecond) <= millisecond)
    }

    @Test("answers to no outstanding probe, repeated answers and answers with t3 before t2 are refused")
    func rejections() throws {
        var sync = ClockSync(now: Instant(nanoseconds: start))
        let stranger = ClockMessage.answer(t1: 12_345, t2: start, t3: start, stratum: 255)
        sync.receive(stranger, from: peer, at: Instant(nanoseconds: start + second))
        #expect(sync.rejected == 1)
        #expect(sync.exchanges == 0)

        let answer = try #require(exchange(&sync, at: start + 2 * second, peerAhead: 0))
        #expect(sync.exchanges == 1)
        sync.receive(answer, from: peer, at: Instant(nanoseconds: start + 2 * second + 3 * millisecond))
        #expect(sync.rejected == 2, "the same answer twice")

        guard case .probe(let t1, _) = sync.probe(at: Instant(nanoseconds: start + 3 * second)) else {
            Issue.record("probe expected")
            return
        }
        let backwards = ClockMessage.answer(t1: t1, t2: start + 3 * second + 2, t3: start + 3 * second + 1, stratum: 255)
        sync.receive(backwards, from: peer, at: Instant(nanoseconds: start + 3 * second + millisecond))
        #expect(sync.rejected == 3)
        #expect(sync.exchanges == 1)
        #expect(sync.estimate(at: Instant(nanoseconds: start + 4 * second)).samples == 1)
    }

    @Test("a large offset is slewed away at no more than the largest slew rate, and time never runs backwards")
    func slewing() {
        let configuration = ClockSync.Configuration(mode: .average, maximumSlew: 0.1, gain: 1)
        var sync = ClockSync(configuration: configuration, now: Instant(nanoseconds: start))
        // The cluster is 500 ms behind this node.
        for step in 0..<4 { exchange(&sync, at: start + Int64(step) * 250 * millisecond, peerAhead: -500 * millisecond) }
        var previous = Int64.min
        var raw = start + second
        while raw <= start + 8 * second {
            sync.tick(at: Instant(nanoseconds: raw))
            let synced = sync.time(at: Instant(nanoseconds: raw)).nanoseconds
            #expect(synced > previous, "time ran backwards at raw \(raw - start)")
            previous = synced
            raw += 10 * millisecond
        }
        // Ticks from 1 s to 8 s: seven updates at 10% slew remove at most 700 ms; 500 ms are gone.
        let correction = sync.estimate(at: Instant(nanoseconds: start + 8 * second)).correctionNanoseconds
        #expect(abs(correction - -500 * millisecond) < millisecond, "correction \(correction)")
        // After one update only a tenth of a second can have gone.
        var early = ClockSync(configuration: configuration, now: Instant(nanoseconds: start))
        exchange(&early, at: start, peerAhead: -500 * millisecond)
        early.tick(at: Instant(nanoseconds: start + second))
        let afterOne = early.estimate(at: Instant(nanoseconds: start + 2 * second)).correctionNanoseconds
        #expect(afterOne == -100 * millisecond)
    }

    @Test("a peer clock running 50 ppm fast is seen as this node's drift of −50 ppm, and followed")
    func drift() {
        var sync = ClockSync(now: Instant(nanoseconds: start))
        for step in 1...90 {
            let raw = start + Int64(step) * second
            // Alternate the delay asymmetry: the fit must see through ±0.25 ms of noise.
            let out: Int64 = step % 2 == 0 ? 1_250_000 : 750_000
            exchange(&sync, at: raw, peerAhead: 3 * millisecond + Int64(step) * 50_000, out: out, back: 2 * millisecond - out)
            sync.tick(at: Instant(nanoseconds: raw + 5 * millisecond))
        }
        let estimate = sync.estimate(at: Instant(nanoseconds: start + 91 * second))
        #expect(abs(estimate.driftPPM - -50) < 1, "drift \(estimate.driftPPM) ppm")
        // The synchronised clock now tracks the peer's: within a millisecond of it.
        let now = start + 91 * second
        let peerClock = now + 3 * millisecond + 91 * 50_000
        #expect(abs(sync.time(at: Instant(nanoseconds: now)).nanoseconds - peerClock) < millisecond)
    }

    @Test("mode off estimates but never corrects")
    func off() {
        var sync = ClockSync(configuration: .init(mode: .off), now: Instant(nanoseconds: start))
        for step in 1...10 {
            exchange(&sync, at: start + Int64(step) * second, peerAhead: 80 * millisecond)
            sync.tick(at: Instant(nanoseconds: start + Int64(step) * second + 10 * millisecond))
        }
        let raw = Instant(nanoseconds: start + 11 * second)
        #expect(sync.time(at: raw) == raw)
        #expect(sync.estimate(at: raw).offsetNanoseconds == 80 * millisecond)
    }

    @Test("reference mode: the reference is stratum 0 and never moves; a node that samples it is stratum 1 and follows it")
    func reference() {
        var reference = ClockSync(configuration: .init(mode: .reference, isReference: true), now: Instant(nanoseconds: start))
        var follower = ClockSync(configuration: .init(mode: .reference), now: Instant(nanoseconds: start))
        #expect(reference.stratum == 0)
        #expect(follower.stratum == 255)
        for step in 1...10 {
            let raw = start + Int64(step) * second
            exchange(&reference, at: raw, peerAhead: 30 * millisecond, stratum: 1)
            reference.tick(at: Instant(nanoseconds: raw + 5 * millisecond))
            exchange(&follower, at: raw, peerAhead: 30 * millisecond, stratum: 0)
            follower.tick(at: Instant(nanoseconds: raw + 5 * millisecond))
        }
        let now = Instant(nanoseconds: start + 11 * second)
        #expect(reference.time(at: now) == now)
        #expect(follower.stratum == 1)
        #expect(abs(follower.time(at: now).nanoseconds - (now.nanoseconds + 30 * millisecond)) < 100_000)
        // Samples from members that follow no reference (stratum 255) are ignored.
        var stray = ClockSync(configuration: .init(mode: .reference), now: Instant(nanoseconds: start))
        exchange(&stray, at: start + second, peerAhead: 30 * millisecond, stratum: 255)
        stray.tick(at: Instant(nanoseconds: start + 2 * second))
        #expect(stray.time(at: now) == now)
    }

    @Test("clock frames round-trip; short, long and foreign frames are refused")
    func codec() {
        let messages: [ClockMessage] = [
            .probe(t1: 1_767_225_600_123_456_789, stratum: 3), .probe(t1: -5, stratum: 255),
            .answer(t1: 1, t2: Int64.max, t3: Int64.min, stratum: 0),
        ]
        for message in messages {
            let frame = message.frame
            #expect(ClockMessage(frame: frame) == message)
            #expect(ClockMessage(frame: Frame(type: frame.type, body: Array(frame.body.dropLast()))) == nil)
            #expect(ClockMessage(frame: Frame(type: frame.type, body: frame.body + [0])) == nil)
        }
        #expect(ClockMessage(frame: Frame(type: FrameType.ping, body: ClockMessage.probe(t1: 1, stratum: 1).frame.body)) == nil)
    }
}
