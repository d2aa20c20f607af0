import ArgumentParser
import Dispatch
import DrizzleCrypto
import DrizzleNode
import DrizzlePrompt
import DrizzleSim
import DrizzleTerminal
import Foundation
import Synchronization

/// `drizzle bench …`: measurements recorded in docs/PERFORMANCE.md.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark and print its figures.",
        subcommands: [BenchCrypto.self, BenchGossip.self, BenchData.self, BenchChart.self])
}

/// `drizzle bench crypto`: raw libsodium against the signed envelope, one core.
struct BenchCrypto: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto",
        abstract: "Ed25519 sign/verify of 1,200-byte datagrams: raw libsodium and the envelope, with their ratio.")

    @OptionGroup var output: OutputOptions

    @Option(help: "Seconds to time each operation.")
    var seconds: Double = 2

    @Option(help: "Datagram size in bytes, signature included.")
    var bytes: Int = 1200

    func validate() throws {
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard (256...65_507).contains(bytes) else { throw ValidationError("--bytes must be in 256...65507") }
    }

    func run() async throws {
        let progress = Progress(total: 10)
        let benchmark = CryptoBenchmark(datagramBytes: bytes, secondsPerOperation: seconds)
        let rows = try benchmark.run(now: WallClock.now) { progress.step($0) }
        progress.finish()
        let table = Table(
            header: ["name", "ops_per_s", "ratio_to_raw"],
            rows: rows.map { [$0.name, String(format: "%.0f", $0.operationsPerSecond), String(format: "%.3f", $0.ratioToRaw)] })
        StandardStreams.write(table.render(output.format))
    }
}

/// `drizzle bench gossip`: signed datagrams received, verified and applied per second by one node
/// over loopback, against raw verify of the same datagrams; RSS per node.
struct BenchGossip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossip",
        abstract: "Signed datagrams one node receives, verifies and applies per second (vs raw verify); RSS per node.")

    @OptionGroup var output: OutputOptions

    @Option(help: "Seconds of sending.")
    var seconds: Double = 3

    @Option(help: "Nodes started in one process to measure memory per node in multi mode.")
    var nodes: Int = 24

    func validate() throws {
        guard seconds > 0, seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60]") }
        guard (1...200).contains(nodes) else { throw ValidationError("--nodes must be in 1...200") }
    }

    func run() async throws {
        let progress = Progress(total: 4)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let benchmark = GossipBenchmark(seconds: seconds, multiModeNodes: nodes, agentExecutable: executable)
        let result: GossipBenchmark.Result
        do {
            result = try await benchmark.run { progress.step($0) }
        } catch {
            progress.finish()
            throw fail("\(error)")
        }
        progress.finish()
        let table = Table(
            header: ["name", "value", "ratio_to_raw"],
            rows: [
                ["raw_verify_per_s", String(format: "%.0f", result.rawVerifyPerSecond), "1.000"],
                ["received_verified_applied_per_s", String(format: "%.0f", result.appliedPerSecond), String(format: "%.3f", result.ratio)],
                ["rss_per_node_multi_mode_kib", String(format: "%.0f", result.rssPerNodeKiB), "-"],
                ["rss_agent_process_kib", result.rssAgentKiB.map { String(format: "%.0f", $0) } ?? "-", "-"],
            ])
        StandardStreams.write(table.render(output.format))
        StandardStreams.write("sent \(result.datagramsSent) datagrams of 8 rumors each; the receiver learned \(result.rumorsLearned) rumors\n", to: .error)
    }
}

/// `drizzle bench data`: write and read MB/s of a random file at several piece sizes, and lookups
/// per second, on a multi-mode cluster of real nodes in this process.
struct BenchData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Write/read MB/s of a random file per piece size, and lookups/s, on a local multi-mode cluster.",
        discussion: """
            Starts --nodes nodes in this process (loopback UDP and TCP, signed envelopes, disk stores \
            under $TMPDIR), waits for an exact ring, then from node 0 writes, reads back (checked byte \
            for byte) and deletes a random file at each piece size, and finally looks up random keys \
            from random nodes. MB are 2^20 bytes. CSV has one header: rows of kind `data` fill the \
            piece columns, the row of kind `lookup` the lookup columns. Piece sizes run largest \
            first; each file is deleted (delete_s: until no replica holds a copy) before the next, the \
            last one goes with the cluster. Everything started is stopped and removed at the end, on \
            error and on Ctrl-C.
            """)

    @OptionGroup var output: OutputOptions

    @Option(help: "Nodes in the cluster.")
    var nodes: Int = 24

    @Option(name: .customLong("size-mb"), help: "Size of the random file in MB (2^20 bytes).")
    var sizeMB: Int = 64

    @Option(name: .customLong("piece-sizes"), help: "Piece sizes in bytes, comma-separated.")
    var pieceSizes: String = "256,65536"

    @Option(help: "Lookups of random keys from random nodes (0: none).")
    var lookups: Int = 10_000

    @Option(name: .customLong("lookup-window"), help: "Lookups in flight at once.")
    var lookupWindow: Int = 64

    private var benchmark: DataBenchmark? {
        let sizes = pieceSizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, !sizes.contains(nil) else { return nil }
        return DataBenchmark(
            nodes: nodes, fileBytes: sizeMB << 20, pieceSizes: sizes.compactMap { $0 }, lookups: lookups,
            lookupWindow: lookupWindow)
    }

    func validate() throws {
        guard (1...200).contains(nodes) else { throw ValidationError("--nodes must be in 1...200") }
        guard (1...4096).contains(sizeMB) else { throw ValidationError("--size-mb must be in 1...4096") }
        guard (0...10_000_000).contains(lookups) else { throw ValidationError("--lookups must be in 0...10000000") }
        guard (1...4096).contains(lookupWindow) else { throw ValidationError("--lookup-window must be in 1...4096") }
        guard let benchmark else {
            throw ValidationError("--piece-sizes must be byte counts separated by commas, like 256,65536")
        }
        if let problem = benchmark.problem { throw ValidationError(problem) }
    }

    func run() async throws {
        guard let benchmark else { throw fail("--piece-sizes must be byte counts separated by commas") }
        let progress = Progress(total: benchmark.stepCount)
        let task = Task {
            try await benchmark.run { event in
                switch event {
                case .step(let label): progress.step(label)
                case .advanced(let done, let total, let unit): progress.update(done, of: total, unit)
                }
            }
        }
        let interruption = cancelOnInterrupt(task)
        let started = ContinuousClock.now
        let result: DataBenchmark.Result
        do {
            result = try await task.value
        } catch {
            progress.finish()
            throw fail("\(error)")
        }
        interruption.forEach { $0.cancel() }
        progress.finish()
        StandardStreams.write(render(result))
        let elapsed = ContinuousClock.now - started
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let fingers = result.fingersExact ? "" : "; some fingers were still wrong when the lookups began"
        let note = String(
            format: "%d nodes; ring exact after %.1f s; measuring took %.1f s, stopping and removing files %.1f s",
            benchmark.nodes, result.ringSeconds, result.totalSeconds, max(0, wall - result.totalSeconds))
        StandardStreams.write((note + fingers + "\n"), to: .error)
    }

    private func render(_ result: DataBenchmark.Result) -> String {
        let rows = result.pieceRuns.map { run in
            [
                String(run.pieceSize), String(format: "%g", run.megabytes),
                String(format: "%.2f", run.writeMegabytesPerSecond), String(format: "%.2f", run.readMegabytesPerSecond),
                String(run.pieces), String(run.replicas),
                run.deleteSeconds.map { String(format: "%.1f", $0) } ?? (output.format == .csv ? "" : "-"),
            ]
        }
        let header = ["piece_bytes", "mb", "write_mb_per_s", "read_mb_per_s", "pieces", "replicas", "delete_s"]
        switch output.format {
        case .table:
            var text = Table(header: header, rows: rows).render(.table)
            if let lookups = result.lookups {
                text += String(
                    format: "lookups: %d from random nodes, %d at a time: %.0f per s, mean hops %.2f, %d failed\n",
                    lookups.succeeded + lookups.failed, lookups.window, lookups.perSecond, lookups.meanHops,
                    lookups.failed)
            }
            return text
        case .csv:
            let lookupHeader = ["lookups", "lookup_window", "lookups_per_s", "mean_hops", "lookups_failed"]
            var csvRows = rows.map { ["data"] + $0 + Array(repeating: "", count: lookupHeader.count) }
            if let lookups = result.lookups {
                let figures = [
                    String(lookups.succeeded + lookups.failed), String(lookups.window),
                    String(format: "%.0f", lookups.perSecond), String(format: "%.3f", lookups.meanHops),
                    String(lookups.failed),
                ]
                csvRows.append(["lookup"] + Array(repeating: "", count: header.count) + figures)
            }
            return Table(header: ["kind"] + header + lookupHeader, rows: csvRows).render(.csv)
        }
    }
}

/// Cancels `task` on the first SIGINT or SIGTERM (the benchmark then stops its nodes and removes its
/// files); a second one exits at once. The returned sources must stay alive while it applies.
private func cancelOnInterrupt(_ task: Task<DataBenchmark.Result, any Error>) -> [any DispatchSourceSignal] {
    let interruptions = InterruptCount()
    return [SIGINT, SIGTERM].map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler {
            if interruptions.next() > 1 { exit(130) }
            let message = "\ninterrupted: stopping every node and removing the temporary files (again: quit at once)\n"
            StandardStreams.write(message, to: .error)
            task.cancel()
        }
        source.resume()
        return source
    }
}

/// How many interrupting signals arrived.
private final class InterruptCount: Sendable {
    private let count = Mutex(0)

    func next() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }
}

/// `drizzle bench chart`: the SVG bar chart of a side-by-side CSV from `bench/compare-*`.
struct BenchChart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart",
        abstract: "Draw the ratio column of a bench/compare-* CSV as an SVG bar chart (log scale, parity at 1).")

    @Argument(help: "The CSV: n,metric,<baseline>,bitdrizzle,<ratio>.")
    var csv: String

    @Argument(help: "The SVG file to write.")
    var svg: String

    func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: csv, encoding: .utf8)
        } catch {
            throw fail("cannot read \(csv): \(error.localizedDescription) (give the CSV a bench/compare-* script wrote)")
        }
        let chart: SVGRatioChart
        do {
            chart = try SVGRatioChart.comparison(csv: text)
        } catch {
            throw fail("\(csv): \(error)")
        }
        do {
            try Data(chart.render().utf8).write(to: URL(fileURLWithPath: svg), options: .atomic)
        } catch {
            throw fail("cannot write \(svg): \(error.localizedDescription) (check the folder exists and is writable)")
        }
    }
}
