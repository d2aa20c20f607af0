import DrizzleNode
import ArgumentParser
import DrizzleNode
import Foundation
import DrizzleCrypto

/// `drizzle bench …`: measurements recorded in docs/PERFORMANCE.md.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark and print its figures.", subcommands: [BenchCrypto.self, BenchGossip.self])
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
        print(table.render(output.format), terminator: "")
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
        print(table.render(output.format), terminator: "")
        FileHandle.standardError.write(
            Data("sent \(result.datagramsSent) datagrams of 8 rumors each; the receiver learned \(result.rumorsLearned) rumors\n".utf8))
    }
}
