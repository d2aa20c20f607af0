import Foundation
import Testing

/// Setting flags (`--net-size 3`) work on every command that starts nodes, as docs/configuration.md
/// shows, and `drizzle cluster`'s output reaches a file as it is printed.
@Suite("drizzle: setting flags and cluster output", .serialized)
struct SettingsFlagTests {
    @Test("the prompt takes setting flags: --net-size sets how many nodes MM starts")
    func promptFlags() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28600, size: 5)
            let run = try runTool(
                "drizzle", ["--config", "drizzle.yaml", "--net-size", "3", "--gossip-interval-ms", "100"], cwd: folder,
                input: "MM\nSZ\nX\n", timeoutSeconds: 60)
            #expect(run.succeeded, "\(run)")
            #expect(run.standardOutput.contains("multi mode: started 2 nodes"), "\(run)")
            let typo = try runTool("drizzle", ["--config", "drizzle.yaml", "--net-sise", "3"], cwd: folder, input: "X\n")
            #expect(!typo.succeeded)
            #expect(typo.errorLines == ["drizzle: error: unknown setting flag '--net-sise' (see `drizzle config --help` and docs/configuration.md)"])
        }
    }

    @Test("drizzle cluster takes setting flags, and says 'running' into a file before it is stopped")
    func clusterIntoFile() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28700, size: 5)
            let process = Process()
            process.executableURL = try builtExecutable("drizzle")
            process.arguments = ["cluster", "--config", "drizzle.yaml", "--net-size", "3"]
            process.currentDirectoryURL = folder
            let capture = try OutputCapture(attachingTo: process)
            defer { capture.close() }
            process.standardInput = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            let stdout = capture.folder.appendingPathComponent("stdout")
            var printed = ""
            for _ in 0..<600 {
                printed = String(decoding: (try? Data(contentsOf: stdout)) ?? Data(), as: UTF8.self)
                if printed.contains("running;") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            // While the cluster still runs, its lines are already in the file.
            #expect(process.isRunning)
            #expect(printed.contains("multi mode: started 2 nodes"), "\(printed)")
            #expect(printed.contains("running; Ctrl-C stops every node"), "\(printed)")
            process.terminate()
            process.waitUntilExit()
            let run = capture.result(of: process, commandLine: ["drizzle", "cluster"])
            #expect(run.succeeded, "\(run)")
            #expect(run.standardOutput.contains("stopped 3 nodes; goodbye"), "\(run)")
        }
    }
}
