import ArgumentParser
import DrizzleCore
import DrizzleNode
import DrizzleSim
import DrizzleTerminal
import Foundation

/// `drizzle sim clock`: clock skew over time with drift, with and without synchronisation.
struct SimClock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: "Clock synchronisation on probes: the cluster's largest pairwise skew over time, synced and raw.")

    @Option(help: "Nodes in the simulated cluster.")
    var nodes = 1000

    @Option(name: .customLong("drift-ppm"), help: "Each clock's drift is uniform in ± this many parts per million.")
    var driftPPM = 100.0

    @Option(name: .customLong("offset-s"), help: "Each clock's starting offset is uniform in ± this many seconds.")
    var offsetSeconds = 1.0

    @Option(help: "Simulated minutes.")
    var minutes = 60.0

    @Option(help: "on (synchronised clocks), off (raw clocks, sync off) or both (one run, both columns).")
    var sync = "both"

    @Option(help: "average (converge on the cluster's average) or reference (follow one node, stratum 0).")
    var mode = "average"

    @OptionGroup var experiment: ExperimentOptions

    func run() async throws {
        guard let comparison = ClockExperiment.Comparison(rawValue: sync) else {
            throw fail("unknown --sync '\(sync)': use on, off or both")
        }
        guard let mode = ClockSync.Mode(rawValue: mode), mode != .off else {
            throw fail("unknown --mode '\(self.mode)': use average or reference (--sync off runs without correction)")
        }
        guard (2...100_000).contains(nodes) else { throw fail("--nodes must be from 2 to 100,000") }
        guard driftPPM >= 0, driftPPM <= 500 else { throw fail("--drift-ppm must be from 0 to 500") }
        guard offsetSeconds >= 0, offsetSeconds <= 3600 else { throw fail("--offset-s must be from 0 to 3,600 seconds") }
        guard minutes > 0, minutes <= 24 * 60 else { throw fail("--minutes must be in (0, 1440]") }

        var setup = ClockExperiment()
        setup.nodes = nodes
        setup.driftPPM = driftPPM
        setup.offsetSeconds = offsetSeconds
        setup.minutes = minutes
        setup.comparison = comparison
        setup.mode = mode
        setup.seed = experiment.seed
        setup.signed = !experiment.noCrypto

        let times = ClockExperiment.sampleSeconds(upTo: minutes * 60)
        let (result, seconds) = measured(times.count, "samples") { progress in setup.run(progress: progress) }
        // Wall time goes to standard error: standard output stays byte-identical for a seed.
        StandardStreams.write(
            String(
                format: "drizzle: %.1f s wall time, %.0f node-rounds/s\n", seconds,
                Double(result.nodeRounds) / max(seconds, 1e-9)), to: .error)

        func milliseconds(_ value: Int64?) -> String { value.map { String(format: "%.3f", Double($0) / 1e6) } ?? "" }
        let all = Table(
            header: ["time_s", "max_skew_ms_sync", "max_skew_ms_nosync"],
            rows: result.rows.map { row in
                [fixed(row.seconds, 0), milliseconds(row.syncedSkewNanoseconds), milliseconds(row.rawSkewNanoseconds)]
            })
        // The table shows a selection (every 5 s to 20 s, 20 s to 2 min, a minute to 10 min, then
        // every 5 minutes, and the last); CSV and --out have every sample.
        let shown = Table(
            header: all.header,
            rows: zip(result.rows, all.rows).filter { row, _ in
                let t = Int(row.seconds.rounded())
                return row.seconds == result.rows.last?.seconds
                    || (t < 20 ? t % 5 == 0 : t <= 120 ? t % 20 == 0 : t <= 600 ? t % 60 == 0 : t % 300 == 0)
            }.map(\.1))

        let synchronising = comparison != .off
        var notes = [
            "clock: n=\(nodes) drift=±\(driftPPM)ppm offset=±\(offsetSeconds)s minutes=\(minutes) sync=\(sync) "
                + "mode=\(mode.rawValue) links=0.5-1.5ms loss=0 probe=1s window=\(setup.clock.window) "
                + "update=\(Double(setup.clock.updateIntervalNanoseconds) / 1e9)s",
            experiment.noCrypto
                ? "crypto: OFF (--no-crypto): datagrams are encoded but not signed"
                : "crypto: every datagram signed and verified with Ed25519",
            "seed: \(experiment.seed)   rerun: drizzle sim clock \(CommandLine.arguments.dropFirst(3).joined(separator: " "))",
            "max_skew: largest difference between two nodes' clocks at one true instant, in ms",
        ]
        if synchronising {
            if let converged = result.convergedAtSeconds {
                notes.append(
                    "converged: synced skew below 1 ms from \(fixed(converged, 0)) s to the end; since then max "
                        + "\(milliseconds(result.worstAfterConvergenceNanoseconds)) ms, mean "
                        + String(format: "%.3f", (result.meanAfterConvergenceNanoseconds ?? 0) / 1e6) + " ms")
            } else {
                notes.append("converged: NO — the synced skew was 1 ms or more at the last sample")
            }
            if let median = result.driftErrorMedianPPM, let worst = result.driftErrorMaximumPPM,
                let rate = result.clusterRatePPM
            {
                notes.append(
                    "drift estimates at the end: within \(fixed(median, 2)) ppm of the truth (median), \(fixed(worst, 2)) ppm "
                        + "worst; the synchronised clocks run at \(fixed(rate, 2)) ppm against true time")
            }
            if let reference = result.reference, let last = result.rows.last {
                notes.append(
                    "reference: node \(reference); at the end every clock within "
                        + "\(milliseconds(last.referenceOffsetNanoseconds)) ms of it; highest stratum "
                        + "\(result.highestStratum.map(String.init) ?? "-")")
            }
        }
        if comparison != .on, let first = result.rows.first?.rawSkewNanoseconds,
            let last = result.rows.last?.rawSkewNanoseconds
        {
            notes.append("raw clocks: skew \(milliseconds(first)) ms at the start, \(milliseconds(last)) ms at the end")
        }
        notes.append(
            "simulated \(result.nodeRounds) node-rounds of \(setup.roundNanoseconds / 1_000_000) ms, \(result.datagrams) datagrams, "
                + "\(result.clockExchanges) clock exchanges")
        if experiment.output.format == .table {
            notes.append("table: a selection of the \(result.rows.count) samples; --format csv and --out give all")
        }
        emit(table: experiment.output.format == .csv ? all : shown, notes: notes, format: experiment.output.format)
        if let folder = experiment.out {
            var series: [SVGPlot.Series] = []
            if synchronising {
                series.append(
                    SVGPlot.Series(
                        name: "synchronised (\(mode.rawValue))",
                        points: result.rows.compactMap { row in
                            row.syncedSkewNanoseconds.map { (row.seconds / 60, max(Double($0) / 1e6, 1e-3)) }
                        }))
            }
            if comparison != .on {
                series.append(
                    SVGPlot.Series(
                        name: "raw clocks",
                        points: result.rows.compactMap { row in
                            row.rawSkewNanoseconds.map { (row.seconds / 60, max(Double($0) / 1e6, 1e-3)) }
                        }))
            }
            series.append(
                SVGPlot.Series(name: "1 ms", points: [(0, 1), (minutes, 1)], dashed: true))
            let plot = SVGPlot(
                title: "Clock skew, n=\(nodes), drift ±\(driftPPM) ppm, offset ±\(offsetSeconds) s",
                xLabel: "minutes", yLabel: "largest pairwise skew (ms)", logY: true, series: series)
            try write(folder: folder, name: "clock", table: all, plot: plot)
        }
    }
}
