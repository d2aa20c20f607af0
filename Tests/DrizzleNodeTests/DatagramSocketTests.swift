import DrizzleCore
import Foundation
import Logging
import NIOPosix
import Testing

@testable import DrizzleNode

@Suite("Node runtime: the UDP socket outlives a send the kernel refuses", .serialized)
struct DatagramSocketTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("a member announcing a broadcast address (EACCES on send) does not leave its peers deaf on UDP")
    func refusedAddress() async throws {
        try await withCluster(["a", "b", "c"]) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let a = try await startNode("a", seed: nil, keys: keys, group: group, logger: logger)
            let b = try await startNode("b", seed: a.address, keys: keys, group: group, logger: logger)
            #expect(await eventually(10) { await a.viewSize == 2 })
            #expect(await eventually(10) { await b.viewSize == 2 })
            // c announces 255.255.255.255: every datagram a sends to it fails with EACCES, which
            // SwiftNIO answers by closing a's UDP channel.
            let c = try await NodeHost.start(
                NodeOptions(
                    name: "c", advertise: "255.255.255.255:40000", seeds: [a.address], keysDirectory: keys,
                    dataDirectory: keys + "/data", membership: fastMembership()),
                group: group, logger: logger)
            #expect(await eventually(10) { await a.datagramSocketReopened > 0 }, "a's UDP socket was closed and reopened")
            // c never answers at that address: a declares it dead and stops sending to it.
            let cID = c.id
            #expect(await eventually(20) { await a.members.contains { $0.id == cID && !$0.state.isActive } })
            await c.shutdown(graceful: false)
            // a and b still hear each other on UDP: probes keep both alive, and an event
            // published at b reaches a as a rumor. On a loaded machine a 200 ms probe period can
            // make either suspect the other for a moment; a node that hears UDP refutes that at
            // once, a deaf one never would.
            let heard = await a.datagramsIn
            #expect(await eventually(10) { await a.datagramsIn > heard + 20 }, "a receives datagrams again")
            let aID = a.id
            let bID = b.id
            #expect(await eventually(10) { await a.members.first { $0.id == bID }?.state == .alive })
            #expect(await eventually(10) { await b.members.first { $0.id == aID }?.state == .alive })
            let events = await a.events()
            _ = try await b.publish(topic: "t", payload: Array("after".utf8))
            let arrived = try await withThrowingTaskGroup(of: Bool.self) { tasks in
                tasks.addTask {
                    for await event in events where event.payload == Array("after".utf8) { return true }
                    return false
                }
                tasks.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return false
                }
                let first = try await tasks.next() ?? false
                tasks.cancelAll()
                return first
            }
            #expect(arrived, "b's event reached a")
            await b.shutdown(graceful: false)
            await a.shutdown(graceful: false)
            try await group.shutdownGracefully()
        }
    }
}
