import DrizzleCore
import DrizzleNode
import Foundation
import Logging
import NIOPosix
import Testing

/// Collects every event a node delivers, in order.
actor DeliveryLog {
    private(set) var keys: [OrderKey] = []
    private(set) var physical: [Int64] = []

    func append(_ event: BusEvent) {
        keys.append(event.key)
        physical.append(event.physical)
    }

    var count: Int { keys.count }
}

@Suite("Message bus on loopback sockets", .serialized)
struct EventBusTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Three nodes whose clocks are seconds apart (one 4 s ahead, one 3 s behind, drifting),
    /// all publishing concurrently.
    @Test("three nodes with clocks seconds apart publish 1,000 events concurrently; all deliver the same sequence")
    func concurrentPublishersAgree() async throws {
        let names = ["b1", "b2", "b3"]
        try await withCluster(names) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            let clocks = [
                ClockModel(offsetNanoseconds: 4_000_000_000, driftPPM: 200),
                ClockModel(offsetNanoseconds: -3_000_000_000, driftPPM: -150), ClockModel(),
            ]
            var hosts: [NodeHost] = []
            for (index, name) in names.enumerated() {
                var options = NodeOptions(
                    name: name, seeds: hosts.first.map { [$0.address] } ?? [], keysDirectory: keys,
                    dataDirectory: keys + "/data", membership: fastMembership())
                options.clock = clocks[index]
                // No synchronisation: the clocks stay seconds apart for the whole test.
                options.clockSync = ClockSync.Configuration(mode: .off)
                hosts.append(try await NodeHost.start(options, group: group, logger: logger))
            }
            let logs = names.map { _ in DeliveryLog() }
            var followers: [Task<Void, Never>] = []
            for (host, log) in zip(hosts, logs) {
                let events = await host.events()
                followers.append(Task { for await event in events { await log.append(event) } })
            }
            let ready = await eventually(15) {
                for host in hosts {
                    let size = await host.viewSize
                    let inStep = await host.bus.inStep
                    if size != 3 || !inStep { return false }
                }
                return true
            }
            #expect(ready, "the nodes did not join and exchange Lamport times")

            // Each node publishes its share as fast as it can, all at once.
            let perNode = [334, 333, 333]
            await withTaskGroup(of: Void.self) { publishers in
                for (host, count) in zip(hosts, perNode) {
                    publishers.addTask {
                        for index in 0..<count {
                            _ = try? await host.publish(topic: "load", payload: Array("\(host.name) \(index)".utf8))
                            if index % 25 == 0 { try? await Task.sleep(for: .milliseconds(5)) }
                        }
                    }
                }
            }
            let delivered = await eventually(30) {
                for log in logs where await log.count < 1000 { return false }
                return true
            }
            let sequences = await logs.asyncMap { await $0.keys }
            #expect(delivered, "deliveries: \(sequences.map(\.count))")
            #expect(sequences.allSatisfy { $0.count == 1000 }, "every event once: \(sequences.map(\.count))")
            #expect(sequences[1] == sequences[0] && sequences[2] == sequences[0], "one total order everywhere")
            #expect(sequences[0] == sequences[0].sorted(), "delivered in (Lamport, origin) order")
            #expect(Set(sequences[0]).count == 1000)
            // The publishers' clocks disagree by seconds: ordering by physical time would not be this order.
            let physical = await logs[0].physical
            #expect(physical != physical.sorted(), "physical timestamps should disagree with the total order here")
            for host in hosts {
                let bus = await host.bus
                #expect(bus.late == 0 && bus.pendingCount == 0)
            }
            for follower in followers { follower.cancel() }
            for host in hosts { await host.shutdown() }
            try await group.shutdownGracefully()
        }
    }
}

@Suite("Clock synchronisation on loopback sockets", .serialized)
struct ClockSyncLiveTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Each node's synchronised clock minus the wall clock: its raw clock's error (the model's
    /// offset and drift, known exactly) plus its current correction. Computed this way, the
    /// figure does not depend on how long the test waits for each node's actor on a busy machine.
    func offsets(_ hosts: [NodeHost]) async -> [Int64] {
        var result: [Int64] = []
        for host in hosts {
            let correction = await host.clockEstimate.correctionNanoseconds
            let wall = WallClock.now()
            result.append(host.clockModel.reading(at: wall).nanoseconds - wall.nanoseconds + correction)
        }
        return result
    }

    @Test("three nodes whose clocks start 2.5 s apart and drift converge to milliseconds, and CK says so")
    func clocksConverge() async throws {
        let names = ["k1", "k2", "k3"]
        try await withCluster(names) { keys in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            let clocks = [
                ClockModel(offsetNanoseconds: 1_500_000_000, driftPPM: 100), ClockModel(offsetNanoseconds: -1_000_000_000, driftPPM: -100),
                ClockModel(),
            ]
            var hosts: [NodeHost] = []
            for (index, name) in names.enumerated() {
                var options = NodeOptions(
                    name: name, seeds: hosts.first.map { [$0.address] } ?? [], keysDirectory: keys,
                    dataDirectory: keys + "/data", membership: fastMembership())
                options.clock = clocks[index]
                // Faster than the shipped defaults so the test is short: a correction four times a
                // second, slewing at up to 50 %.
                options.clockSync = ClockSync.Configuration(mode: .average, updateIntervalNanoseconds: 250_000_000, maximumSlew: 0.5)
                hosts.append(try await NodeHost.start(options, group: group, logger: logger))
            }
            let before = await offsets(hosts)
            #expect((before.max() ?? 0) - (before.min() ?? 0) > 2_000_000_000, "the clocks start 2.5 s apart")
            var skew = Int64.max
            var calmLooks = 0
            // On an idle machine they settle within about a millisecond; the bound leaves room for
            // a CI machine running every other suite at once (samples then wait for the CPU).
            // Converged means within the bound for a whole second (20 looks 50 ms apart): while
            // they still slew toward each other, the clocks pass through each other and apart again
            // (one look under 10 ms, 60-95 ms half a second later, on a loaded 2-core machine).
            let converged = await eventually(60) {
                let now = await offsets(hosts)
                skew = (now.max() ?? 0) - (now.min() ?? 0)
                calmLooks = skew < 10_000_000 ? calmLooks + 1 : 0
                return calmLooks >= 20
            }
            #expect(converged, "largest skew still \(Double(skew) / 1e6) ms")
            // Still together a few seconds later, and each node's own estimate agrees.
            try await Task.sleep(for: .seconds(3))
            let after = await offsets(hosts)
            #expect((after.max() ?? 0) - (after.min() ?? 0) < 20_000_000, "\(after)")
            // Each node's own estimate (from its samples, which a busy machine delays) agrees
            // within a few milliseconds.
            for host in hosts {
                let estimate = await host.clockEstimate
                #expect(estimate.peersSampled == 2)
                #expect(abs(estimate.offsetNanoseconds) < 50_000_000 && estimate.skewNanoseconds < 50_000_000, "\(estimate)")
            }
            for host in hosts { await host.shutdown() }
            try await group.shutdownGracefully()
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var result: [T] = []
        for element in self { result.append(await transform(element)) }
        return result
    }
}
