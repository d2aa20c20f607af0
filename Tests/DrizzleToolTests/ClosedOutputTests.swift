import Foundation
import Testing

/// A reader that goes away (`drizzle events | head -1`) or an output closed from the start
/// (`2>&-`) must never trap an executable: it exits quietly (status 0) and, where it runs nodes,
/// they leave the cluster gracefully first.
@Suite("closed output", .serialized)
struct ClosedOutputTests {
    /// Runs `script` with bash in `folder`, `$D` and `$K` naming the built `drizzle` and
    /// `drizzle-keys`.
    func bash(_ script: String, in folder: URL, timeoutSeconds: Double = 60) throws -> ToolRun {
        let drizzle = try builtExecutable("drizzle").path
        let keys = try builtExecutable("drizzle-keys").path
        let path = folder.appendingPathComponent("script.sh")
        try "D='\(drizzle)'\nK='\(keys)'\n\(script)\n".write(to: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [path.path]
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        let capture = try OutputCapture(attachingTo: process)
        defer { capture.close() }
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(2_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return capture.result(of: process, commandLine: ["bash", script])
    }

    /// The number after `label ` in `run`'s output.
    func status(_ label: String, in run: ToolRun) -> Int? {
        run.outputLines.last { $0.hasPrefix(label + " ") }.flatMap { Int($0.dropFirst(label.count + 1)) }
    }

    func noTrap(in text: String) -> Bool { !text.contains("Fatal error") && !text.contains("Broken pipe") }

    @Test("the prompt piped into head -2 exits 0 without a trap")
    func promptIntoHead() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28100, size: 4)
            let run = try bash(
                """
                printf 'H\\nH\\nH\\nMM\\nSZ\\nX\\n' | "$D" --config drizzle.yaml 2>stderr.txt | head -2
                echo "drizzle ${PIPESTATUS[1]}"
                cat stderr.txt
                """, in: folder)
            #expect(status("drizzle", in: run) == 0, "\(run)")
            #expect(noTrap(in: run.standardOutput), "\(run)")
        }
    }

    @Test("an agent whose log pipe closes leaves the cluster gracefully and exits 0")
    func agentIntoHead() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28200, size: 1)
            let prompt = try BackgroundPrompt(in: folder, commands: "")
            defer { prompt.stop() }
            let socket = "data/node-28200.sock"
            try await waitFor(socket, in: folder)
            let run = try bash(
                """
                "$K" issue b --keys-dir keys >/dev/null || exit 9
                "$D" agent --name b --config drizzle.yaml --bind 127.0.0.1:28201 --join 127.0.0.1:28200 2>&1 | head -1
                echo "agent ${PIPESTATUS[0]}"
                """, in: folder)
            #expect(status("agent", in: run) == 0, "\(run)")
            #expect(noTrap(in: run.standardOutput), "\(run)")
            // The agent said goodbye: the other node marks it left, not suspect or dead.
            var table = ""
            for _ in 0..<50 {
                table = try runTool("drizzle", ["attach", socket], cwd: folder, input: "MB\nX\n").standardOutput
                if table.contains("left    127.0.0.1:28201") { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(table.contains("left    127.0.0.1:28201"), "\(table)")
        }
    }

    @Test("drizzle events into head -1, and attach into head -1, exit 0 without a trap")
    func eventsIntoHead() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28300, size: 1)
            let prompt = try BackgroundPrompt(in: folder, commands: "")
            defer { prompt.stop() }
            let socket = "data/node-28300.sock"
            try await waitFor(socket, in: folder)
            let run = try bash(
                """
                "$D" events --socket \(socket) | head -1 &
                sleep 1
                for i in 1 2 3 4 5; do "$D" publish --socket \(socket) news "n$i" >/dev/null; sleep 0.3; done
                wait $!
                echo "events $?"
                printf 'LL\\nMB\\nSZ\\nRI\\nH\\n' | "$D" attach \(socket) 2>&1 | head -1
                echo "attach ${PIPESTATUS[1]}"
                """, in: folder)
            #expect(run.outputLines.contains { $0.hasSuffix(" news n1") }, "\(run)")
            #expect(status("attach", in: run) == 0, "\(run)")
            #expect(noTrap(in: run.standardOutput), "\(run)")
        }
    }

    @Test("a simulation with standard error closed still prints its table and exits 0")
    func simulationWithoutStandardError() async throws {
        try await withScratchDirectory { folder in
            let run = try bash(
                """
                "$D" sim rumor --nodes 100 --runs 2 --out results 2>&-
                echo "sim $?"
                "$D" sim rumor --nodes 100 --runs 2 --out piped | head -1
                echo "sim ${PIPESTATUS[0]}"
                """, in: folder)
            #expect(run.outputLines.filter { $0.hasPrefix("sim ") } == ["sim 0", "sim 0"], "\(run)")
            #expect(run.outputLines.contains { $0.hasPrefix("5 ") }, "the whole table: \(run)")
            for folderName in ["results", "piped"] {
                let csv = folder.appendingPathComponent("\(folderName)/rumor.csv").path
                #expect(FileManager.default.fileExists(atPath: csv), "the files are written even when the reader left")
            }
        }
    }

    /// Waits until the node's control socket exists.
    func waitFor(_ socket: String, in folder: URL) async throws {
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: folder.appendingPathComponent(socket).path) {
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
