import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `drizzle agent` run as a process, on ports 26700–26799 (below Linux's ephemeral range, apart
/// from the other suites' ports).
@Suite("drizzle agent", .serialized)
struct AgentTests {
    /// A key folder with a development CA and `names` issued, in `folder`.
    func issueKeys(_ names: [String], in folder: URL) throws {
        try #require(try drizzleKeys("ca", in: folder).succeeded)
        for name in names { try #require(try drizzleKeys("issue", name, in: folder).succeeded) }
    }

    @Test("a second agent with a running agent's name exits with one line naming the pid and the lock; the first keeps its control socket")
    func sameNameRefused() async throws {
        try await withScratchDirectory { folder in
            try issueKeys(["twin"], in: folder)
            let first = try BackgroundAgent(in: folder, ["--name", "twin", "--bind", "127.0.0.1:26701"])
            defer { first.kill() }
            #expect(await first.answers("data/twin.sock"), "\(first.output)")

            let second = try runTool(
                "drizzle", ["agent", "--name", "twin", "--bind", "127.0.0.1:26702"], cwd: folder, timeoutSeconds: 15)
            #expect(second.status == 1 && !second.terminatedBySignal, "\(second)")
            #expect(
                second.errorLines == [
                    "drizzle: error: twin is already running in this data folder (pid \(first.process.processIdentifier), lock data/twin.lock); stop it, or pick another name or data folder (--name, --data-dir)"
                ], "\(second)")
            // The first agent's control socket is still there and still its own.
            let attach = try runTool("drizzle", ["attach", "data/twin.sock"], cwd: folder, input: "LL\n")
            #expect(attach.standardOutput.contains("control socket data/twin.sock answers for twin"), "\(attach)")

            // The kernel drops the lock with the process, however it dies: no stale lock to clean up.
            first.kill()
            let again = try BackgroundAgent(in: folder, ["--name", "twin", "--bind", "127.0.0.1:26701"])
            defer { again.kill() }
            #expect(await again.answers("data/twin.sock"), "\(again.output)")
        }
    }

    @Test("each node of the prompt's multi mode holds its own name: an agent of that name is refused with the prompt's pid")
    func multiModeNodesHoldTheirNames() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 26730, size: 3)
            let prompt = try BackgroundPrompt(in: folder, commands: "MM\n")
            defer { prompt.stop() }
            var started = false
            for _ in 0..<150 where !started {
                try await Task.sleep(for: .milliseconds(200))
                let view = try runTool("drizzle", ["attach", "data/node-26730.sock"], cwd: folder, input: "MB\n")
                started = view.standardOutput.contains("127.0.0.1:26732")
            }
            #expect(started)
            let agent = try runTool(
                "drizzle", ["agent", "--config", "drizzle.yaml", "--name", "node-26732", "--bind", "127.0.0.1:26740"], cwd: folder,
                timeoutSeconds: 15)
            #expect(
                agent.errorLines == [
                    "drizzle: error: node-26732 is already running in this data folder (pid \(prompt.process.processIdentifier), lock data/node-26732.lock); stop it, or pick another name or data folder (--name, --data-dir)"
                ], "\(agent)")
        }
    }

    @Test("a host:port argument that does not parse is one error line naming it, before anything starts")
    func badAddressesRefusedFirst() async throws {
        try await withScratchDirectory { folder in
            try issueKeys(["solo"], in: folder)
            let cases: [(arguments: [String], names: String)] = [
                (["--metrics", "garbage"], "--metrics"),
                (["--metrics", "127.0.0.1:70000"], "--metrics"),
                (["--bind", "127.0.0.1:99999"], "--bind"),
                (["--advertise", "nowhere"], "--advertise"),
                (["--join", "127.0.0.1:26711,127.0.0.1"], "--join"),
                (["--bind", "::1:26712"], "--bind"),
            ]
            for (arguments, flag) in cases {
                let run = try runTool(
                    "drizzle", ["agent", "--name", "solo", "--bind", "127.0.0.1:26710"] + arguments, cwd: folder,
                    timeoutSeconds: 10)
                #expect(run.status == 1 && !run.terminatedBySignal, "\(run)")
                #expect(run.errorLines.count == 1 && run.errorLines.first?.contains(flag) == true, "\(run)")
                #expect(!exists("data/solo.sock", in: folder), "the node started before \(arguments) was checked")
            }
        }
    }

    @Test("a port in use and an address of another machine are one plain line each, without SwiftNIO's text")
    func networkErrorsInWords() async throws {
        try await withScratchDirectory { folder in
            try issueKeys(["holder", "other"], in: folder)
            let holder = try BackgroundAgent(in: folder, ["--name", "holder", "--bind", "127.0.0.1:26720"])
            defer { holder.kill() }
            #expect(await holder.answers("data/holder.sock"), "\(holder.output)")

            let taken = try runTool(
                "drizzle", ["agent", "--name", "other", "--bind", "127.0.0.1:26720"], cwd: folder, timeoutSeconds: 15)
            #expect(
                taken.errorLines == [
                    "drizzle: error: port 26720 on 127.0.0.1 is already in use (another node or program); pick another port (--bind, or node.peer_base_port for the prompt)"
                ], "\(taken)")

            // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
            let foreign = try runTool(
                "drizzle", ["agent", "--name", "other", "--bind", "192.0.2.1:26721"], cwd: folder, timeoutSeconds: 15)
            #expect(
                foreign.errorLines == [
                    "drizzle: error: 192.0.2.1 is not an address of this machine, so nothing can listen on it; use one of its addresses, or 0.0.0.0 for all (--bind)"
                ], "\(foreign)")

            // The metrics endpoint on the holder's TCP port: the node starts, the metrics cannot.
            let metrics = try runTool(
                "drizzle", ["agent", "--name", "other", "--bind", "127.0.0.1:26722", "--metrics", "127.0.0.1:26720", "--log-level", "error"],
                cwd: folder, timeoutSeconds: 15)
            #expect(metrics.status == 1 && !metrics.terminatedBySignal, "\(metrics)")
            #expect(
                metrics.errorLines.last
                    == "drizzle: error: port 26720 on 127.0.0.1 is already in use (another node or program); pick another --metrics port",
                "\(metrics)")
            for run in [taken, foreign, metrics] {
                #expect(!run.standardError.contains("errno") && !run.standardError.contains("descriptor"), "\(run)")
            }
        }
    }
}

/// A `drizzle agent` running in the background; `kill` ends it with SIGKILL (no cleanup at all).
final class BackgroundAgent {
    let process = Process()
    let capture: URL

    init(in folder: URL, _ arguments: [String]) throws {
        process.executableURL = try builtExecutable("drizzle")
        process.arguments = ["agent", "--log-level", "warning"] + arguments
        process.currentDirectoryURL = folder
        capture = folder.appendingPathComponent("agent-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: capture.path, contents: nil)
        let log = try FileHandle(forWritingTo: capture)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// What the agent wrote so far.
    var output: String { (try? String(contentsOf: capture, encoding: .utf8)) ?? "" }

    /// True once the control socket at `socket` (relative to the agent's folder) answers `LL`
    /// for this agent, within 20 s.
    func answers(_ socket: String) async -> Bool {
        guard let folder = process.currentDirectoryURL else { return false }
        for _ in 0..<100 {
            if !process.isRunning { return false }
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(socket).path),
                let run = try? runTool("drizzle", ["attach", socket], cwd: folder, input: "LL\n"),
                run.standardOutput.contains("answers for")
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// SIGKILL, then wait: the process leaves its socket file and lock file behind, as a crash would.
    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
