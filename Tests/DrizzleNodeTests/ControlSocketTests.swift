@_spi(Fuzzing) import DrizzleNode
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

    @Test("requests written at once on one connection are answered in request order, slow and quick mixed")
    func pipelinedRequestsKeepTheirOrder() async throws {
        try await withSocketFolder { folder in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            let path = folder + "/node.sock"
            // "slow N" answers after a pause that is longest for the earliest requests; "quick N" at once.
            let control = try await ControlSocket.listen(at: path, group: group, logger: logger) { command in
                let words = command.split(separator: " ")
                if words.first == "slow", let index = words.last.flatMap({ Int($0) }) {
                    try? await Task.sleep(for: .milliseconds(2 * (50 - index)))
                }
                return ControlResponse(ok: true, lines: [command])
            }
            let commands = (0..<50).map { $0 % 3 == 0 ? "slow \($0)" : "quick \($0)" }
            var request = Data()
            for command in commands {
                request.append(try JSONEncoder().encode(ControlRequest(command: command)))
                request.append(UInt8(ascii: "\n"))
            }
            let client = try await ClientBootstrap(group: group)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder(maximumLength: 1 << 20)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let answered: [String] = try await client.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: request))  // all 50 lines in one write
                var answered: [String] = []
                for try await line in inbound {
                    let response = try JSONDecoder().decode(ControlResponse.self, from: Data(line.readableBytesView))
                    answered.append(response.lines.joined())
                    if answered.count == commands.count { break }
                }
                return answered
            }
            #expect(answered == commands)
            await control.close()
            try await group.shutdownGracefully()
        }
    }

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
