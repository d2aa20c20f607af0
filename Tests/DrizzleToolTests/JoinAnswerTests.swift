import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// FN and JN say what happened: a port counts as a node only when a node of this cluster answers
/// there, and a join nobody answered is not reported as joined.
@Suite("drizzle prompt: FN and JN with nobody there", .serialized)
struct JoinAnswerTests {
    /// A TCP listener on loopback that accepts connections and says nothing (not a node).
    func silentListener(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(descriptor, 8) == 0)
        return descriptor
    }

    @Test("FN takes no plain TCP listener for a node, and JN with nobody answering does not claim a join")
    func nobodyThere() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28800, size: 3)
            let listener = try silentListener(port: 28801)
            defer { close(listener) }
            let run = try runTool("drizzle", ["--config", "drizzle.yaml"], cwd: folder, input: "FN\nJN\nX\n", timeoutSeconds: 60)
            #expect(run.succeeded, "\(run)")
            #expect(run.standardOutput.contains("no entry node found on 127.0.0.1 ports 28800–28802; 1 port accepted a connection but gave no authenticated answer"), "\(run)")
            #expect(!run.standardOutput.contains("joined through"), "\(run)")
        }
    }

    @Test("JN through a seed where nothing listens, or through this node itself, says so")
    func seedNotAnswering() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 28900, size: 3)
            try "node:\n  peer_base_port: 28900\nnet:\n  seeds: [127.0.0.1:28950]\nkeys:\n  dir: keys\n"
                .write(to: folder.appendingPathComponent("nobody.yaml"), atomically: true, encoding: .utf8)
            let run = try runTool("drizzle", ["--config", "nobody.yaml"], cwd: folder, input: "FN\nJN\nX\n", timeoutSeconds: 60)
            #expect(run.succeeded, "\(run)")
            #expect(run.standardOutput.contains("entry node 127.0.0.1:28950 (configured seed) does not answer as a node of this cluster"), "\(run)")
            #expect(run.standardOutput.contains("no authenticated answer from 127.0.0.1:28950 yet"), "\(run)")
            #expect(!run.standardOutput.contains("joined through"), "\(run)")
            try "node:\n  peer_base_port: 28900\nnet:\n  seeds: [127.0.0.1:28900]\nkeys:\n  dir: keys\n"
                .write(to: folder.appendingPathComponent("self.yaml"), atomically: true, encoding: .utf8)
            let alone = try runTool("drizzle", ["--config", "self.yaml"], cwd: folder, input: "JN\nX\n", timeoutSeconds: 60)
            #expect(alone.standardOutput.contains("cannot join: 127.0.0.1:28900 is this node's own address"), "\(alone)")
        }
    }

    @Test("drizzle agent --join to an address where nothing listens warns at the default log level")
    func agentWarns() async throws {
        try await withScratchDirectory { folder in
            try PromptTests().writeConfig(in: folder, basePort: 29000, size: 1)
            let issued = try runTool("drizzle", ["--config", "drizzle.yaml"], cwd: folder, input: "X\n")
            #expect(issued.succeeded, "\(issued)")
            let run = try runTool(
                "drizzle", ["agent", "--name", "node-29000", "--config", "drizzle.yaml", "--join", "127.0.0.1:29050"],
                cwd: folder, timeoutSeconds: 6)
            #expect(run.standardError.contains("no seed has answered the join after 3 s"), "\(run)")
        }
    }
}
