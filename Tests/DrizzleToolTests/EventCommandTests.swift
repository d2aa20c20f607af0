import Foundation
import Testing

@Suite("drizzle bus commands", .serialized)
struct EventCommandTests {
    @Test("PUB, drizzle publish and drizzle events: every event reaches the stream, the prompt and the event handler in one order")
    func publishFollowAndHandle() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 26600, size: 3)
            let handler = #"printf '%s %s %s\n' "$DRIZZLE_EVENT_TOPIC" "$DRIZZLE_EVENT_LAMPORT" "$(cat)" >> handled.txt"#
            let prompt = try BackgroundPrompt(in: folder, commands: "MM\n", arguments: ["--event-handler", handler])
            defer { prompt.stop() }
            let socket = "data/node-26600.sock"
            var ready = false
            for _ in 0..<100 where !ready {
                try await Task.sleep(for: .milliseconds(100))
                ready = FileManager.default.fileExists(atPath: folder.appendingPathComponent(socket).path)
            }
            #expect(ready)
            try await Task.sleep(for: .seconds(3))

            // A follower on the control socket, started before anything is published.
            let follower = Process()
            follower.executableURL = try builtExecutable("drizzle")
            follower.arguments = ["events", "--socket", socket, "--count", "3"]
            follower.currentDirectoryURL = folder
            let streamed = folder.appendingPathComponent("streamed.txt")
            try Data().write(to: streamed)
            follower.standardOutput = try FileHandle(forWritingTo: streamed)
            follower.standardError = FileHandle.nullDevice
            try follower.run()
            try await Task.sleep(for: .milliseconds(500))

            let first = try runTool("drizzle", ["publish", "--socket", socket, "chat", "hello world"], cwd: folder)
            #expect(first.succeeded, "\(first)")
            #expect(first.standardOutput.hasPrefix("published chat at lamport "))
            let second = try runTool("drizzle", ["publish", "--socket", socket, "chat"], cwd: folder, input: "from stdin\n")
            #expect(second.succeeded, "\(second)")
            let attach = try runTool(
                "drizzle", ["attach", socket], cwd: folder, input: "PUB news third one\nSUB chat\nCK\n", timeoutSeconds: 30)
            #expect(attach.succeeded, "\(attach)")
            #expect(attach.standardOutput.contains("published news at lamport "))
            #expect(attach.standardOutput.contains("subscribed to chat"))
            #expect(attach.standardOutput.contains("ms: the largest difference among this node and the 2 members it sampled"))

            // Bad input: one line, exit 1, nothing published.
            let spaced = try runTool("drizzle", ["publish", "--socket", socket, "two words", "x"], cwd: folder)
            #expect(spaced.status == 1 && spaced.errorLines.count == 1, "\(spaced)")
            let large = try runTool("drizzle", ["publish", "--socket", socket, "chat", String(repeating: "x", count: 600)], cwd: folder)
            #expect(large.status == 1 && large.standardError.contains("payload is 600 bytes; the most is 512"), "\(large)")
            let absent = try runTool("drizzle", ["publish", "--socket", "data/absent.sock", "chat", "x"], cwd: folder)
            #expect(absent.status == 1 && absent.errorLines.count == 1)

            let deadline = Date().addingTimeInterval(20)
            while follower.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
            if follower.isRunning { follower.terminate() }
            follower.waitUntilExit()
            #expect(follower.terminationStatus == 0)
            let lines = try String(contentsOf: streamed, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(lines)")
            #expect(lines.map { $0.split(separator: " ")[2] } == ["chat", "chat", "news"])
            #expect(lines[0].hasSuffix("chat hello world") && lines[1].hasSuffix("chat from stdin") && lines[2].hasSuffix("news third one"))
            let lamports = lines.compactMap { UInt64($0.split(separator: " ")[0]) }
            #expect(lamports == lamports.sorted() && Set(lamports).count == 3)

            // The event handler ran once per event, in the same order, with the event in its environment.
            var handled: [String] = []
            for _ in 0..<50 where handled.count < 3 {
                try await Task.sleep(for: .milliseconds(100))
                handled = ((try? String(contentsOf: folder.appendingPathComponent("handled.txt"), encoding: .utf8)) ?? "")
                    .split(separator: "\n").map(String.init)
            }
            #expect(handled == zip(lines, lamports).map { line, lamport in
                let words = line.split(separator: " ", maxSplits: 3)
                return "\(words[2]) \(lamport) \(words[3])"
            }, "\(handled)")
        }
    }
}
