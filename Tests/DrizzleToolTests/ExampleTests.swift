import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Examples of the BitDrizzle library", .serialized)
struct ExampleTests {
    @Test("the total-order chat: three processes send at once and print identical transcripts")
    func chatDemo() async throws {
        _ = try builtExecutable("drizzle-chat")
        let script = packageRoot.appendingPathComponent("Examples/Chat/demo.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path]
        process.currentDirectoryURL = packageRoot
        process.standardInput = FileHandle.nullDevice
        let capture = try OutputCapture(attachingTo: process)
        defer { capture.close() }
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let run = capture.result(of: process, commandLine: ["Examples/Chat/demo.sh"])
        #expect(run.succeeded, "\(run)")
        #expect(run.standardOutput.contains("demo: all 3 transcripts identical: 15 lines in one order"), "\(run)")
    }

    @Test("the members service: two embedded nodes answer /members and /size as JSON, and stop on SIGTERM")
    func membersService() async throws {
        try await withScratchDirectory { folder in
            // Its own package (it depends on Hummingbird); scripts/test builds it before the tests.
            let executable = try builtExecutable(
                "drizzle-members-service", in: "Examples/MembersService",
                buildWith: "swift build --package-path Examples/MembersService")
            let base = 47_700 + Int.random(in: 0..<100) * 2
            func launch(_ name: String, node: Int, http: Int, join: Int?) throws -> Process {
                let process = Process()
                process.executableURL = executable
                process.arguments =
                    ["--name", name, "--bind", "127.0.0.1:\(node)", "--http", "127.0.0.1:\(http)"]
                    + (join.map { ["--join", "127.0.0.1:\($0)"] } ?? [])
                process.currentDirectoryURL = folder
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                return process
            }
            let first = try launch("web-1", node: base, http: base + 1000, join: nil)
            try await Task.sleep(for: .seconds(1))
            let second = try launch("web-2", node: base + 1, http: base + 1001, join: base)
            defer {
                for process in [first, second] where process.isRunning { process.terminate() }
            }
            struct Member: Decodable { var id: String; var address: String; var state: String }
            struct Size: Decodable { var membersInView: Int }
            var members: [Member] = []
            for _ in 0..<100 where members.filter({ $0.state == "alive" }).count < 2 {
                try await Task.sleep(for: .milliseconds(100))
                if let data = try? await fetch("http://127.0.0.1:\(base + 1000)/members") {
                    members = (try? JSONDecoder().decode([Member].self, from: data)) ?? []
                }
            }
            #expect(Set(members.map(\.address)) == ["127.0.0.1:\(base)", "127.0.0.1:\(base + 1)"], "\(members)")
            let size = try JSONDecoder().decode(Size.self, from: try await fetch("http://127.0.0.1:\(base + 1001)/size"))
            #expect(size.membersInView == 2)
            for process in [second, first] {
                process.terminate()
                process.waitUntilExit()
                #expect(process.terminationReason == .exit && process.terminationStatus == 0)
            }
        }
    }

    private func fetch(_ address: String) async throws -> Data {
        guard let url = URL(string: address) else { throw URLError(.badURL) }
        let (data, response) = try await URLSession.shared.data(from: url)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw URLError(.badServerResponse) }
        return data
    }
}
