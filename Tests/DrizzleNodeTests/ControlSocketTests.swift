import DrizzleNode
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

/// A short folder for Unix sockets (a socket path may hold at most 107 bytes), removed afterwards.
func withSocketFolder<T>(_ body: (String) async throws -> T) async throws -> T {
    let folder = "/tmp/drizzle-control-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    return try await body(folder)
}

@Suite("Control socket")
struct ControlSocketTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("a control socket that closes leaves a socket file another listener made at its path in place")
    func closeRemovesOnlyItsOwnSocket() async throws {
        try await withSocketFolder { folder in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let path = folder + "/node.sock"
            let first = try await ControlSocket.listen(at: path, group: group, logger: logger) { _ in
                ControlResponse(ok: true, lines: ["first"])
            }
            // A second listener replaces the file: the first no longer owns what is at the path.
            let second = try await ControlSocket.listen(at: path, group: group, logger: logger) { _ in
                ControlResponse(ok: true, lines: ["second"])
            }
            await first.close()
            #expect(FileManager.default.fileExists(atPath: path), "the first listener removed the second's socket")
            let answer = try await ControlSocket.send("LL", to: path, group: group)
            #expect(answer.lines == ["second"])
            await second.close()
            #expect(!FileManager.default.fileExists(atPath: path), "a listener removes its own socket when it closes")
            try await group.shutdownGracefully()
        }
    }
}
