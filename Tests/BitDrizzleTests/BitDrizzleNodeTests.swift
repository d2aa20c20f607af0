import BitDrizzle
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// Collects a stream's elements as they arrive.
actor Collected<Element: Sendable> {
    private(set) var items: [Element] = []
    func append(_ item: Element) { items.append(item) }
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

/// A scratch folder with development keys for `names` and a configuration that keeps data there.
func scratchCluster(_ names: [String]) throws -> (folder: String, configuration: DrizzleConfiguration) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bitdrizzle-\(UUID().uuidString)").path
    try BitDrizzleNode.issueDevelopmentKeys(for: names, in: folder + "/keys")
    var configuration = DrizzleConfiguration.defaults
    configuration.keys.directory = folder + "/keys"
    configuration.data.directory = folder + "/data"
    configuration.membership.probeIntervalMilliseconds = 200
    configuration.membership.probeTimeoutMilliseconds = 100
    return (folder, configuration)
}

@Suite("BitDrizzle library: a node through its public API, on loopback", .serialized)
struct BitDrizzleNodeTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test("three nodes join, publish, deliver the same order through events() and each event once through events(.arrival), write and read a file, leave cleanly")
    func threeNodes() async throws {
        let names = ["lib-a", "lib-b", "lib-c"]
        let (folder, configuration) = try scratchCluster(names)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = BitDrizzleNode(configuration: configuration, name: names[0], bind: "127.0.0.1:0", seeds: [], logger: logger)
        try await first.start()
        let seed = try #require(await first.address)
        var nodes = [first]
        for name in names.dropFirst() {
            let node = BitDrizzleNode(configuration: configuration, name: name, bind: "127.0.0.1:0", seeds: [seed], logger: logger)
            try await node.start()
            nodes.append(node)
        }
        let logs = names.map { _ in Collected<Event>() }
        let arrivalLogs = names.map { _ in Collected<Event>() }
        var readers: [Task<Void, Never>] = []
        for (index, node) in nodes.enumerated() {
            let events = await node.events()
            let arrivals = await node.events(.arrival)
            readers.append(Task { for await event in events { await logs[index].append(event) } })
            readers.append(Task { for await event in arrivals { await arrivalLogs[index].append(event) } })
        }
        let joined = await eventually(15) {
            for node in nodes {
                guard let size = try? await node.size(), size.membersInView == 3 else { return false }
            }
            return true
        }
        #expect(joined)
        // Alive everywhere: on a loaded machine a probe can time out and leave a member suspect for
        // a moment; it refutes, so wait for that rather than look once.
        let allAlive = await eventually(15) {
            guard let members = try? await first.members() else { return false }
            return members.count == 3 && members.allSatisfy { $0.state == .alive }
        }
        let seen = try? await first.members()
        #expect(allAlive, "\(String(describing: seen))")

        // Every node publishes ten events at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask {
                    for number in 0..<10 { try await node.publish(topic: "chat", text: "\(index)-\(number)") }
                }
            }
            try await group.waitForAll()
        }
        let delivered = await eventually(20) {
            for log in logs where await log.items.count < 30 { return false }
            return true
        }
        #expect(delivered)
        let sequences = await logs.asyncMap { await $0.items.map { "\($0.lamport) \($0.origin) \($0.text ?? "")" } }
        #expect(sequences[0].count == 30)
        #expect(sequences.allSatisfy { $0 == sequences[0] }, "one total order on every node")
        // As they arrived: every event once on every node (its own at once), in whatever order.
        let arrived = await arrivalLogs.asyncMap { await $0.items.map { "\($0.lamport) \($0.origin) \($0.text ?? "")" } }
        #expect(arrived.allSatisfy { $0.count == 30 && Set($0) == Set(sequences[0]) }, "each event arrives once everywhere")

        // A file written through one node reads back, identical, through another (once the ring
        // has settled: every lookup names three replicas).
        let settled = await eventually(15) {
            for node in nodes {
                guard let found = try? await node.lookup(key: "0123456789ABCDEF0123456789ABCDEF"), found.replicas.count == 3
                else { return false }
            }
            return true
        }
        #expect(settled)
        let source = folder + "/hello.bin"
        var generator = SystemRandomNumberGenerator()
        let bytes = Data((0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try bytes.write(to: URL(fileURLWithPath: source))
        let written = try await nodes[1].write(file: source, pieceSize: 4096)
        #expect(written.pieces == 13 && written.replicas == 3)
        let located = try await nodes[2].lookup(key: written.key)
        #expect(located.replicas.count == 3)
        let read = try await nodes[2].read(key: written.key, into: folder + "/out")
        #expect(try Data(contentsOf: URL(fileURLWithPath: read.path)) == bytes)
        #expect(try await nodes[0].delete(key: written.key).keys == 14)
        await #expect(throws: BitDrizzleError.unknownKey(written.key)) { try await nodes[2].read(key: written.key, into: folder + "/out") }
        await #expect(throws: BitDrizzleError.notAKey("xyz")) { try await nodes[2].lookup(key: "xyz") }

        // Typed errors say what to do.
        await #expect(throws: BitDrizzleError.payloadTooLarge(bytes: 600, limit: 512)) {
            try await nodes[0].publish(topic: "chat", payload: Array(repeating: 1, count: 600))
        }

        // The third node leaves: the others see it leave through membershipChanges().
        let changes = await first.membershipChanges()
        let watcher = Task { () -> MembershipChange? in
            for await change in changes where change.member.state == .left { return change }
            return nil
        }
        let leavingID = await nodes[2].id
        await nodes[2].stop()
        let left = await watcher.value
        #expect(left?.member.id == leavingID)
        #expect(left?.previous == .alive)
        await #expect(throws: BitDrizzleError.stopped) { try await nodes[2].size() }
        for reader in readers { reader.cancel() }
        for node in nodes { await node.stop() }
    }

    @Test("in a ServiceGroup: cancelling the group stops the node within a second, and its peer sees it leave")
    func serviceGroupCancellation() async throws {
        let names = ["svc-a", "svc-b"]
        let (folder, configuration) = try scratchCluster(names)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let watcherNode = BitDrizzleNode(configuration: configuration, name: names[0], bind: "127.0.0.1:0", seeds: [], logger: logger)
        try await watcherNode.start()
        let seed = try #require(await watcherNode.address)
        let service = BitDrizzleNode(configuration: configuration, name: names[1], bind: "127.0.0.1:0", seeds: [seed], logger: logger)
        let group = ServiceGroup(services: [service], logger: logger)
        let running = Task { try await group.run() }
        #expect(await eventually(10) { (try? await watcherNode.size().membersInView) == 2 })
        let serviceID = try #require(await service.id)

        let changes = await watcherNode.membershipChanges()
        let sawLeave = Task { () -> Bool in
            for await change in changes where change.member.id == serviceID && change.member.state == .left { return true }
            return false
        }
        let cancelled = ContinuousClock.now
        running.cancel()
        _ = try? await running.value
        let took = ContinuousClock.now - cancelled
        #expect(took < .seconds(1), "the service took \(took) to stop")
        #expect(await service.isRunning == false)
        let timeout = Task {
            try? await Task.sleep(for: .seconds(15))
            sawLeave.cancel()
        }
        #expect(await sawLeave.value, "the peer did not see a graceful leave")
        timeout.cancel()
        await watcherNode.stop()
    }

    @Test("starting with an unknown name or an unusable address fails with one clear error")
    func startErrors() async throws {
        let (folder, configuration) = try scratchCluster(["known"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let unknown = BitDrizzleNode(configuration: configuration, name: "nobody", bind: "127.0.0.1:0", seeds: [], logger: logger)
        await #expect {
            try await unknown.start()
        } throws: { error in
            guard case .cannotStart(let reason) = error as? BitDrizzleError else { return false }
            return reason.contains("nobody")
        }
        let node = BitDrizzleNode(configuration: configuration, name: "known", bind: "127.0.0.1:0", seeds: [], logger: logger)
        await #expect(throws: BitDrizzleError.notStarted) { try await node.members() }
        try await node.start()
        await node.stop()
        await #expect(throws: BitDrizzleError.stopped) { try await node.start() }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var result: [T] = []
        for element in self { result.append(await transform(element)) }
        return result
    }
}
