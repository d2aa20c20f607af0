import DrizzleCore
import Foundation
import Logging
import NIOPosix
import Testing

@testable import DrizzleNode

#if canImport(Glibc)
    import Glibc
#endif

/// Multi mode binds every node's sockets before it starts any node: a reserved port is held
/// against every other socket (the kernel hands no bound port to an outgoing connection either),
/// and the node started on the reservation listens there.
@Suite("Node runtime: ports reserved before the nodes start", .serialized)
struct PortReservationTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Whether a fresh socket of `type` can bind 127.0.0.1:`port` (without SO_REUSEADDR).
    func canBind(_ port: Int, type: Int32) -> Bool {
        let descriptor = socket(AF_INET, type, 0)
        defer { close(descriptor) }
        return withLoopbackAddress(port: port) { bind(descriptor, $0, $1) } == 0
    }

    @Test("a reserved port is held for UDP and TCP until a node takes it, and the node listens there")
    func reservedPortIsHeld() async throws {
        try await withCluster(["r0", "r1"]) { keys in
            let reservation = try PortReservation.reserve(host: "127.0.0.1", port: 29101)
            #expect(!canBind(29101, type: Int32(SOCK_STREAM.rawValue)))
            #expect(!canBind(29101, type: Int32(SOCK_DGRAM.rawValue)))
            #expect(throws: NetworkError.self) { try PortReservation.reserve(host: "127.0.0.1", port: 29101) }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let seed = try await startNode("r0", seed: nil, keys: keys, group: group, logger: logger)
            var options = NodeOptions(
                name: "r1", bindHost: "127.0.0.1", bindPort: 29101, seeds: [seed.address], keysDirectory: keys,
                dataDirectory: keys + "/data", membership: fastMembership())
            options.reservation = reservation
            let node = try await NodeHost.start(options, group: group, logger: logger)
            #expect(node.address == "127.0.0.1:29101")
            #expect(await eventually(10) { await seed.viewSize == 2 }, "UDP and TCP both work")
            #expect(await eventually(10) { await node.viewSize == 2 })
            await node.shutdown(graceful: false)
            await seed.shutdown(graceful: false)
            try await group.shutdownGracefully()
        }
    }
}
