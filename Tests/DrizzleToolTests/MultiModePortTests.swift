import Foundation
import Testing

/// Multi mode's base ports lie inside Linux's ephemeral range (32768–60999 by default), which
/// outgoing TCP connections take their local ports from: a connection of a node that has already
/// started, or one of an earlier run still in TIME_WAIT, could hold the port a later node needs.
/// The test makes that certain rather than likely: in a network namespace of its own, the
/// ephemeral range is set to the ports right after the base port, then MM runs three times in a row.
@Suite("drizzle prompt: multi mode starts every node every time", .serialized)
struct MultiModePortTests {
    /// Runs `ip` with `arguments`; true when it exits 0.
    @discardableResult
    func ip(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") {
            process.executableURL = URL(fileURLWithPath: "/sbin/ip")
        }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    @Test(
        "with the ephemeral range over the base ports, MM starts every node three runs in a row",
        .enabled(if: getuid() == 0, "needs root to create a network namespace"))
    func everyNodeEveryTime() async throws {
        let namespace = "drizzle-mm-\(getpid())"
        guard ip(["netns", "add", namespace]) else {
            Issue.record("cannot create the network namespace \(namespace)")
            return
        }
        defer { ip(["netns", "delete", namespace]) }
        #expect(ip(["-n", namespace, "link", "set", "lo", "up"]))
        // Every outgoing connection in the namespace takes a local port from 29501-29560, which
        // holds nodes 1-23 of the 24 of a multi mode based at 29500.
        #expect(ip(["netns", "exec", namespace, "sysctl", "-qw", "net.ipv4.ip_local_port_range=29501 29560"]))
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 29500, size: 24)
            let drizzle = try builtExecutable("drizzle").path
            for run in 1...3 {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
                if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") {
                    process.executableURL = URL(fileURLWithPath: "/sbin/ip")
                }
                process.arguments = ["netns", "exec", namespace, drizzle, "--config", "drizzle.yaml"]
                process.currentDirectoryURL = folder
                let input = Pipe()
                process.standardInput = input
                let capture = try OutputCapture(attachingTo: process)
                defer { capture.close() }
                try process.run()
                try input.fileHandleForWriting.write(contentsOf: Data("MM\nSZ\nX\n".utf8))
                try input.fileHandleForWriting.close()
                let deadline = Date().addingTimeInterval(60)
                while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                let result = capture.result(of: process, commandLine: ["drizzle", "(run \(run))"])
                #expect(result.succeeded, "\(result)")
                #expect(result.standardOutput.contains("multi mode: started 23 nodes"), "run \(run): \(result)")
                #expect(!result.standardOutput.contains("did not start"), "run \(run): \(result)")
            }
        }
    }
}
