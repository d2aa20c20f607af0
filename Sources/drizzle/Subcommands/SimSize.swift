import DrizzleNode
import ArgumentParser
import DrizzleCore
import DrizzleSim
import DrizzleTerminal
import Foundation

/// `drizzle sim size`: network-size estimation by gossip, error and variance per cycle.
struct SimSize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "size",
        abstract: "Network size by gossip (push-pull averaging, Jelasity et al. 2005; or push-sum): error per cycle.")

    @Option(help: "Nodes in the simulated cluster.")
    var nodes = 1000

    @Option(help: "Cycles (simulator rounds) to run.")
    var cycles = 40

    @Option(help: "Datagram loss rate in [0, 1).")
    var loss = 0.0

    @Option(help: "Fraction of nodes replaced (crashed, fresh ones started) at each epoch boundary, in [0, 1).")
    var churn = 0.0

    @Option(
        name: .customLong("churn-cycle"),
        help: "Cycle of the epoch at which churn strikes (0: at the boundary, before its first cycle).")
    var churnCycle = 0

    @Option(help: "Concurrent instances, each with its own initiator (1 to \(SizeSettings.maximumInstances)).")
    var instances = 1

    @Option(help: "mean or median of the instance estimates.")
    var combine = "median"

    @Option(help: "push-pull or push-sum.")
    var algorithm = "push-pull"

    @Option(name: .customLong("epoch-cycles"), help: "Cycles per epoch (the estimate restarts every epoch).")
    var epochCycles = 30

    @Option(
        help: "Initiators: 'every' (every node a candidate, lowest ticket wins) or a number c (probability c/N̂, as the paper).")
    var initiators = "every"

    @Option(help: "Times an unanswered exchange is resent before it is abandoned (0: the papers' model).")
    var retries = 4

    @Flag(help: "Run every node's cycle at the same instant (default: each node at its own random phase in the round).")
    var lockstep = false

    @OptionGroup var experiment: ExperimentOptions

    func run() async throws {
        guard let algorithm = SizeExperiment.Algorithm(rawValue: algorithm) else {
            throw fail("unknown --algorithm '\(self.algorithm)': use push-pull or push-sum")
        }
        guard let combination = SizeSettings.Combination(rawValue: combine) else {
            throw fail("unknown --combine '\(combine)': use mean or median")
        }
        let initiation: SizeSettings.Initiation
        if initiators == "every" {
            initiation = .everyNode
        } else if let expected = Double(initiators), expected > 0, expected <= 1_000 {
            initiation = .probability(expectedInitiators: expected)
        } else {
            throw fail("--initiators takes 'every' or a number of expected initiators from 0 to 1,000, e.g. 2")
        }
        guard (2...1_000_000).contains(nodes) else { throw fail("--nodes must be from 2 to 1,000,000") }
        guard (1...100_000).contains(cycles) else { throw fail("--cycles must be from 1 to 100,000") }
        guard (0..<1).contains(loss) else { throw fail("--loss must be in [0, 1)") }
        guard (0..<1).contains(churn) else { throw fail("--churn must be in [0, 1)") }
        guard (2...10_000).contains(epochCycles) else { throw fail("--epoch-cycles must be from 2 to 10,000") }
        guard (0..<epochCycles).contains(churnCycle) else {
            throw fail("--churn-cycle must be from 0 to --epoch-cycles − 1 (\(epochCycles - 1))")
        }
        guard (1...SizeSettings.maximumInstances).contains(instances) else {
            throw fail("--instances must be from 1 to \(SizeSettings.maximumInstances)")
        }
        guard (0...8).contains(retries) else { throw fail("--retries must be from 0 to 8") }
        let spare = Double(nodes) * churn * Double(cycles / epochCycles)
        guard Double(nodes) + spare <= 2_000_000 else {
            throw fail("--nodes × (1 + churn × epochs) must stay within 2,000,000 identities")
        }

        var setup = SizeExperiment()
        setup.nodes = nodes
        setup.cycles = cycles
        setup.lossRate = loss
        setup.churn = churn
        setup.churnCycle = churnCycle
        setup.algorithm = algorithm
        setup.settings = SizeSettings(
            epochCycles: epochCycles, instances: instances, combination: combination, initiation: initiation,
            retries: retries)
        setup.seed = experiment.seed
        setup.signed = !experiment.noCrypto
        setup.lockstep = lockstep

        let (result, seconds) = measured(cycles, "cycles") { progress in setup.run(progress: progress) }

        let table = Table(
            header: ["cycle", "mean_estimate", "max_rel_error", "variance_factor"],
            rows: result.rows.map { row in
                [
                    String(row.cycle), row.meanEstimate.map { fixed($0, 3) } ?? "-",
                    String(format: "%.3e", row.maxRelativeError), row.varianceFactor.map { fixed($0, 4) } ?? "-",
                ]
            })
        // The paper's factor holds while values still differ; once they agree to machine
        // precision the ratio is noise, so the summary uses the first ten cycles of each epoch.
        let early = result.rows.filter { ($0.cycle - 1) % epochCycles < 10 }.compactMap(\.varianceFactor)
            .filter { $0 > 0 }
        let geometric = early.isEmpty ? nil : exp(early.map { log($0) }.reduce(0, +) / Double(early.count))
        var notes = [
            "size: n=\(nodes) cycles=\(cycles) algorithm=\(algorithm.rawValue) instances=\(instances) combine=\(combine) "
                + "epoch-cycles=\(epochCycles) initiators=\(initiators) retries=\(retries) loss=\(loss) churn=\(churn)"
                + (churn > 0 ? " churn-cycle=\(churnCycle)" : "") + (lockstep ? " lockstep" : ""),
            experiment.noCrypto
                ? "crypto: OFF (--no-crypto): datagrams are encoded but not signed"
                : "crypto: every datagram signed and verified with Ed25519",
            "seed: \(experiment.seed)   rerun: drizzle sim size \(CommandLine.arguments.dropFirst(3).joined(separator: " "))",
            "simulated \(result.nodeCycles) node-cycles, \(result.datagrams) datagrams (\(result.datagramsLost) lost), "
                + "largest \(result.largestDatagram) bytes, \(result.abandonedExchanges) exchanges abandoned"
                + (result.replaced > 0 ? ", \(result.replaced) nodes replaced" : "")
                + (result.sealFailures > 0 ? ", \(result.sealFailures) datagrams too large to seal" : "")
                + (result.drops > 0 ? ", \(result.drops) dropped on receipt" : ""),
            "max_rel_error: |estimate − live nodes| / live nodes over every live node (no estimate counts as 1)",
        ]
        let missing = result.rows.filter { $0.withoutEstimate > 0 }.map(\.cycle)
        if !missing.isEmpty {
            notes.append("cycles in which some live node had no estimate yet (counted as error 1): \(ranges(missing))")
        }
        if let geometric {
            notes.append(
                "variance factor, geometric mean of the first 10 cycles of each epoch: \(fixed(geometric, 4)) "
                    + "(paper, push-pull: 1/(2√e) ≈ 0.3033)")
        }
        // Wall time goes to standard error: standard output stays byte-identical for a seed.
        StandardStreams.write(
            String(
                format: "drizzle: %.1f s wall time, %.0f node-cycles/s\n", seconds,
                Double(result.nodeCycles) / max(seconds, 1e-9)), to: .error)
        emit(table: table, notes: notes, format: experiment.output.format)
        if let folder = experiment.out {
            let plot = SVGPlot(
                title: "Network size, \(algorithm.rawValue), n=\(nodes), loss=\(loss), churn=\(churn): error vs cycle",
                xLabel: "cycle", yLabel: "max relative error", logY: true,
                series: [
                    SVGPlot.Series(
                        name: "max |N̂ − N| / N",
                        points: result.rows.map { (Double($0.cycle), max($0.maxRelativeError, 1e-12)) })
                ])
            try write(folder: folder, name: "size", table: table, plot: plot)
        }
    }
}

/// "1-3, 7, 31" for [1, 2, 3, 7, 31].
private func ranges(_ values: [Int]) -> String {
    var parts: [String] = []
    var start = values.first ?? 0
    var last = start
    for value in values.dropFirst() + [Int.min] {
        if value == last + 1 {
            last = value
            continue
        }
        parts.append(start == last ? "\(start)" : "\(start)-\(last)")
        start = value
        last = value
    }
    return values.isEmpty ? "" : parts.joined(separator: ", ")
}
