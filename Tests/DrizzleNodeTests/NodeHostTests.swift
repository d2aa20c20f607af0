import DrizzleConfig
import DrizzleCore
import DrizzleCrypto
import DrizzleNode
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

/// A key folder with a CA and `names` issued, removed afterwards.
func withCluster<T>(_ names: [String], _ body: (String) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drizzle-node-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = KeyStore(directory: folder)
    let now = Int64(Date().timeIntervalSince1970)
    try store.createAuthority(durationSeconds: 86_400, now: now - 60)
    for name in names { _ = try store.issue(name: name, durationSeconds: 3600, now: now - 60) }
    return try await body(folder)
}

/// Polls `condition` every 50 ms for up to `seconds`.
func eventually(_ seconds: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

/// Starts node `name` from the key folder `keys` with `fastMembership()`, joining `seed` if given.
func startNode(
    _ name: String, seed: String?, keys: String, group: any EventLoopGroup, logger: Logger
) async throws -> NodeHost {
    try await NodeHost.start(
        NodeOptions(
            name: name, seeds: seed.map { [$0] } ?? [], keysDirectory: keys, dataDirectory: keys + "/data",
            membership: fastMembership()),
        group: group, logger: logger)
}

/// Starts `names` in order, every node after the first joining through the first.
func startCluster(_ names: [String], keys: String, group: any EventLoopGroup, logger: Logger) async throws -> [NodeHost] {
    var hosts: [NodeHost] = []
    for name in names { hosts.append(try await startNode(name, seed: hosts.first?.address, keys: keys, group: group, logger: logger)) }
    return hosts
}

func fastMembership() -> MembershipConfiguration {
    var configuration = MembershipConfiguration()
    configuration.probeIntervalNanoseconds = 200_000_000
    configuration.probeTimeoutNanoseconds = 100_000_000
    configuration.suspicionMultiplier = 3
    return configuration
}

@Suite("Node runtime on loopback sockets", .serialized)
struct NodeHostTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("three nodes on real UDP and TCP sockets join through a seed and see each other")
    func threeNodesJoin() async throws {
        try await withCluster(["n1", "n2", "n3"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let fastSize = SizeSettings(epochCycles: 10)
            let first = try await NodeHost.start(
                NodeOptions(
                    name: "n1", keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership(), size: fastSize,
                    sizeCycleMilliseconds: 100),
                group: group, logger: logger)
            var hosts = [first]
            for name in ["n2", "n3"] {
                hosts.append(
                    try await NodeHost.start(
                        NodeOptions(
                            name: name, seeds: [first.address], keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership(),
                            size: fastSize, sizeCycleMilliseconds: 100),
                        group: group, logger: logger))
            }
            let converged = await eventually(10) {
                for host in hosts where await host.viewSize != 3 { return false }
                return true
            }
            #expect(converged)
            #expect(await first.drops.total == 0)
            // Prometheus metrics refresh every second: three alive members, datagrams both ways.
            let exported = await eventually(3) {
                first.metrics.exposition().contains(#"drizzle_members{node="n1",state="alive"} 3.0"#)
            }
            #expect(exported, "\(first.metrics.exposition())")
            let received = await first.envelopesIn
            let sent = await first.envelopesOut
            #expect(received > 0 && sent > 0)
            // Every node's gossip estimate of the size settles on 3 within a few epochs (1 s each
            // here; more on a loaded machine, where probes, which carry the size cycles, slow down).
            let estimated = await eventually(20) {
                for host in hosts {
                    guard let estimate = await host.sizeEstimate, estimate.source == .epoch,
                        abs(estimate.size - 3) < 0.01
                    else { return false }
                }
                return true
            }
            #expect(estimated)
            // A graceful leave is seen as "left" by the others.
            await hosts[2].shutdown()
            let left = await eventually(10) {
                await first.members.first { $0.id == hosts[2].id }?.state == .left
            }
            #expect(left)
            for host in hosts.prefix(2) { await host.shutdown() }
            try await group.shutdownGracefully()
        }
    }

    @Test("a crashed node is declared dead by the survivors")
    func crashDetected() async throws {
        try await withCluster(["a", "b", "c"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let seed = try await NodeHost.start(
                NodeOptions(name: "a", keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership()), group: group, logger: logger)
            let b = try await NodeHost.start(
                NodeOptions(name: "b", seeds: [seed.address], keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership()),
                group: group, logger: logger)
            let c = try await NodeHost.start(
                NodeOptions(name: "c", seeds: [seed.address], keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership()),
                group: group, logger: logger)
            let joined = await eventually(10) {
                let seen = await seed.viewSize
                let seenByB = await b.viewSize
                return seen == 3 && seenByB == 3
            }
            #expect(joined)
            await c.shutdown(graceful: false)
            let dead = await eventually(20) {
                let seen = await seed.members.first { $0.id == c.id }?.state
                let seenByB = await b.members.first { $0.id == c.id }?.state
                return seen == .dead && seenByB == .dead
            }
            #expect(dead)
            await seed.shutdown()
            await b.shutdown()
            try await group.shutdownGracefully()
        }
    }

    @Test("datagrams that cannot be envelopes are dropped where they arrive and counted by reason; the node keeps answering")
    func garbageIsScreenedAndCounted() async throws {
        try await withCluster(["target", "peer"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let target = try await NodeHost.start(
                NodeOptions(name: "target", keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership()),
                group: group, logger: logger)
            let sender = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
            let parts = target.address.split(separator: ":")
            let address = try SocketAddress(ipAddress: String(parts[0]), port: Int(parts[1]) ?? 0)
            // 300 of 3 to 301 random bytes (never the magic), 200 with the magic and nothing else, 100 of another version.
            var datagrams = (0..<300).map { _ in [0x00] + (0..<Int.random(in: 2...300)).map { _ in UInt8.random(in: 0...255) } }
            datagrams += Array(repeating: EnvelopeHeader.magic, count: 200)
            datagrams += Array(repeating: EnvelopeHeader.magic + [9] + Array(repeating: 0, count: 120), count: 100)
            for bytes in datagrams {
                sender.write(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)), promise: nil)
            }
            sender.flush()
            let counted = await eventually(10) {
                let drops = await target.drops
                return drops[.malformed] == 300 && drops[.truncated] == 200 && drops[.badVersion] == 100
            }
            let drops = await target.drops
            #expect(counted, "drops: \(drops.nonZero)")
            // None of them reached the core; an honest node still joins.
            #expect(await target.envelopesIn == 0)
            let peer = try await NodeHost.start(
                NodeOptions(name: "peer", seeds: [target.address], keysDirectory: keys, dataDirectory: keys + "/data", membership: fastMembership()),
                group: group, logger: logger)
            #expect(await eventually(10) { await target.viewSize == 2 })
            try await sender.close()
            await peer.shutdown()
            await target.shutdown()
            try await group.shutdownGracefully()
        }
    }

    @Test("the gossip settings of the configuration are the ones the running node uses")
    func gossipSettingsReachTheNode() async throws {
        try await withCluster(["tuned"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            var configuration = DrizzleConfiguration.defaults
            configuration.gossip.intervalMilliseconds = 50
            configuration.gossip.fanout = 5
            configuration.gossip.variant = .blindCoin
            configuration.gossip.k = 7
            configuration.gossip.mode = .pull
            configuration.gossip.transmitLimit = .log2
            configuration.gossip.retransmitMultiplier = 2
            configuration.gossip.antiEntropyIntervalMilliseconds = 1000
            configuration.keys.directory = keys
            configuration.data.directory = keys + "/data"
            let host = try await NodeHost.start(
                NodeOptions(configuration: configuration, name: "tuned", bindHost: "127.0.0.1", bindPort: 0, seeds: []),
                group: group, logger: logger)
            let running = await host.gossip
            #expect(
                running.policy
                    == RumorPolicy(
                        feedback: .blind, stop: .coin, k: 7, mode: .pull, fanout: 5, transmitLimit: .log2(multiplier: 2),
                        minimumTransmits: 10))
            #expect(running.intervalNanoseconds == 50_000_000)
            #expect(running.antiEntropyEveryRounds == 20)
            let shipped = DrizzleConfiguration.defaults
            #expect(
                shipped.rumorPolicy
                    == RumorPolicy(k: 3, mode: .push, fanout: 3, transmitLimit: .memberlist(multiplier: 4), minimumTransmits: 6))
            await host.shutdown()
            try await group.shutdownGracefully()
        }
    }

    @Test("a node whose key folder lacks its name fails to start with a clear error")
    func missingIdentity() async throws {
        try await withCluster(["only"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            await #expect(throws: NodeStartError.self) {
                _ = try await NodeHost.start(NodeOptions(name: "ghost", keysDirectory: keys, dataDirectory: keys + "/data"), group: group, logger: logger)
            }
            try await group.shutdownGracefully()
        }
    }
}
