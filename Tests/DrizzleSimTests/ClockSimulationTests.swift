import DrizzleCore
import DrizzleSim
import Testing

@Suite("Simulator: clock synchronisation on the real core")
struct ClockSimulationTests {
    func experiment(
        nodes: Int = 20, minutes: Double, offsetSeconds: Double, mode: ClockSync.Mode = .average, seed: UInt64 = 1
    ) -> ClockExperiment {
        var setup = ClockExperiment()
        setup.nodes = nodes
        // Half-second rounds keep the debug build quick; probes still go out once a second.
        setup.roundNanoseconds = 500_000_000
        setup.minutes = minutes
        setup.offsetSeconds = offsetSeconds
        setup.driftPPM = 100
        setup.mode = mode
        setup.seed = seed
        setup.signed = false
        return setup
    }

    @Test("clocks ±1 s and ±100 ppm apart converge below 1 ms of skew within 4 minutes and stay there")
    func convergence() throws {
        let result = experiment(minutes: 5, offsetSeconds: 1).run()
        let first = try #require(result.rows.first?.syncedSkewNanoseconds)
        #expect(first > 1_000_000_000, "the clocks start over a second apart")
        let converged = try #require(result.convergedAtSeconds, "never converged")
        #expect(converged <= 240, "converged after \(converged) s")
        let worst = try #require(result.worstAfterConvergenceNanoseconds)
        #expect(worst < 1_000_000, "worst skew after convergence \(worst) ns")
        // The drift estimates follow the true drifts closely.
        let drift = try #require(result.driftErrorMaximumPPM)
        #expect(drift < 10, "drift estimate off by up to \(drift) ppm")
    }

    @Test("without synchronisation the skew grows with drift; with it, the same clocks stay within 1 ms")
    func unsyncedSkewGrows() throws {
        // Clocks that start together but run up to 100 ppm apart.
        let result = experiment(minutes: 4, offsetSeconds: 0).run()
        let raw = result.rows.compactMap(\.rawSkewNanoseconds)
        let atMinute = try #require(result.rows.first { $0.seconds == 60 }?.rawSkewNanoseconds)
        let atEnd = try #require(raw.last)
        // 20 drifts uniform in ±100 ppm spread well over 100 ppm: ≥ 6 ms after a minute, 4× that after four.
        #expect(atMinute > 6_000_000, "raw skew after a minute \(atMinute) ns")
        #expect(atEnd > 3 * atMinute, "raw skew \(atMinute) ns after a minute, \(atEnd) ns after four")
        #expect(zip(raw, raw.dropFirst()).allSatisfy { $0 <= $1 }, "the raw skew never shrinks")
        // Synchronised, the same clocks stay within a few milliseconds while the drifts are learnt,
        // then within 1 ms.
        let converged = try #require(result.convergedAtSeconds, "never converged")
        #expect(converged <= 120, "converged after \(converged) s")
        let worst = try #require(result.worstAfterConvergenceNanoseconds)
        #expect(worst < 1_000_000, "worst skew after convergence \(worst) ns")
        let synced = result.rows.compactMap(\.syncedSkewNanoseconds)
        #expect(synced.allSatisfy { $0 < 10_000_000 }, "synced skew peaked at \(synced.max() ?? 0) ns")
    }

    @Test("with --sync off the nodes never correct: the skew is the raw clocks'")
    func syncOff() throws {
        var setup = experiment(minutes: 1, offsetSeconds: 1)
        setup.comparison = .off
        let result = setup.run()
        #expect(result.rows.allSatisfy { $0.syncedSkewNanoseconds == nil })
        #expect(result.convergedAtSeconds == nil)
        let last = try #require(result.rows.last?.rawSkewNanoseconds)
        #expect(last > 1_000_000_000)
    }

    @Test("reference mode: every clock converges on the reference node's")
    func reference() throws {
        let result = experiment(minutes: 5, offsetSeconds: 1, mode: .reference).run()
        #expect(result.reference != nil)
        let start = try #require(result.rows.first?.referenceOffsetNanoseconds)
        #expect(start > 500_000_000)
        let converged = try #require(result.convergedAtSeconds, "never converged")
        #expect(converged <= 240, "converged after \(converged) s")
        for row in result.rows where row.seconds >= 240 {
            let offset = try #require(row.referenceOffsetNanoseconds)
            #expect(offset < 1_000_000, "at \(row.seconds) s a clock is \(offset) ns from the reference")
        }
        let stratum = try #require(result.highestStratum)
        #expect(stratum < 255, "some node never reached the reference")
    }
}
