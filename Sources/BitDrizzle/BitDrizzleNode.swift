@_exported public import DrizzleConfig
import DrizzleCore
import DrizzleCrypto
package import DrizzleNode
import Foundation
public import Logging
import NIOPosix
public import ServiceLifecycle

/// One BitDrizzle node inside your program: an authenticated gossip member with the DHT ring,
/// the message bus and clock synchronisation, on real sockets.
///
/// Configure it from the same `DrizzleConfiguration` as the `drizzle` command line, then run it
/// as a `Service` in a `ServiceGroup` (beside an HTTP server, say) or call `start()` and
/// `stop()` yourself. Its identity is `<keys>/nodes/<name>.key` and `.crt`, issued by
/// `drizzle-keys issue <name>`.
///
/// ```swift
/// let node = BitDrizzleNode(configuration: .defaults, name: "node-a", bind: "127.0.0.1:0", seeds: ["10.0.0.1:40000"])
/// let group = ServiceGroup(services: [node], gracefulShutdownSignals: [.sigterm], logger: logger)
/// Task { try await group.run() }
/// for await event in await node.events() { print(event.topic, event.text ?? "") }
/// ```
public actor BitDrizzleNode: Service {
    /// The node's name (its key and certificate file names).
    public nonisolated let name: String
    public nonisolated let configuration: DrizzleConfiguration
    private var options: NodeOptions
    private let logger: Logger
    private var group: MultiThreadedEventLoopGroup?
    private var host: NodeHost?
    private var halted = false
    private var pumps: [Task<Void, Never>] = []
    private var eventSinks = Broadcast<Event>(buffer: 100_000)
    private var arrivalSinks = Broadcast<Event>(buffer: 100_000)
    private var changeSinks = Broadcast<MembershipChange>(buffer: 10_000)
    /// Why the `bind` or a seed given to the initializer cannot be used: `start()` throws it.
    private var unusableAddress: String?

    /// - Parameters:
    ///   - configuration: settings as the CLI reads them (`DrizzleConfiguration.defaults`, or
    ///     `DrizzleConfiguration.load(_:)` for a file, the environment and flags).
    ///   - name: the node's name: its key is `<keysDirectory>/nodes/<name>.key`.
    ///   - bind: `host:port` to listen on (UDP and TCP; IPv6 in brackets); port 0 picks a free one.
    ///     Default: `node.host:node.peer_base_port`.
    ///   - seeds: `host:port` of members to join through, each host an IP address. Default: `net.seeds`.
    ///     A `bind` or a seed that cannot be used makes `start()` throw `cannotStart`, saying why.
    ///   - keysDirectory: the key folder. Default: `keys.dir`.
    ///   - logger: where the node logs (membership changes, errors).
    public init(
        configuration: DrizzleConfiguration = .defaults, name: String, bind: String? = nil, seeds: [String]? = nil,
        keysDirectory: String? = nil, logger: Logger = Logger(label: "bitdrizzle")
    ) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        var address = HostPort(host: configuration.node.host, port: configuration.node.peerBasePort)
        if let bind {
            do {
                address = try HostPort(parsing: bind)
            } catch {
                unusableAddress = "bind \(error)"
            }
        }
        let seeds = seeds ?? configuration.net.seeds
        for seed in seeds where unusableAddress == nil {
            do {
                let address = try HostPort(parsing: seed, ports: 1...65535)
                if !address.isIPAddress {
                    unusableAddress =
                        "seed '\(seed)': '\(address.host)' is not an IP address (peer addresses are used as written, never looked up)"
                }
            } catch {
                unusableAddress = "seed \(error)"
            }
        }
        var options = NodeOptions(
            configuration: configuration, name: name, bindHost: address.host, bindPort: address.port, seeds: seeds)
        if let keysDirectory { options.keysDirectory = keysDirectory }
        self.options = options
    }

    /// A node run with runtime options the public initializer does not expose (the CLI's agent:
    /// advertised address, test impairment).
    package init(options: NodeOptions, configuration: DrizzleConfiguration, logger: Logger) {
        name = options.name
        self.configuration = configuration
        self.logger = logger
        self.options = options
    }

    /// The runtime underneath, for the prompt's diagnostics (`RI`, the ring walk, the bus's
    /// counters): not part of the library's surface.
    package var runtime: NodeHost? { host }

    // MARK: Lifecycle

    /// Starts the node (takes its name's lock in the data folder, binds its sockets, joins its
    /// seeds). Calling it again does nothing. Throws `alreadyRunning` when a node of this name
    /// runs on the data folder, `cannotStart` with one plain line for anything else.
    public func start() async throws(BitDrizzleError) {
        guard !halted else { throw .stopped }
        guard host == nil else { return }
        if let unusableAddress { throw .cannotStart(unusableAddress) }
        try checkCertificate()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let started: NodeHost
        do {
            started = try await NodeHost.start(options, group: group, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            if case NodeStartError.lock(.alreadyRunning(let name, let pid, let lockFile)) = error {
                throw .alreadyRunning(name: name, pid: pid, lockFile: lockFile)
            }
            throw .cannotStart("\(error)")
        }
        self.group = group
        host = started
        let events = await started.events()
        let arrivals = await started.eventArrivals()
        let changes = await started.memberChanges()
        pumps.append(Task { [weak self] in for await event in events { await self?.fanOut(Event(event)) } })
        pumps.append(Task { [weak self] in for await event in arrivals { await self?.fanOutArrival(Event(event)) } })
        pumps.append(
            Task { [weak self] in
                for await change in changes {
                    let info = MembershipChange(member: MemberInfo(change.member), previous: change.previous.map(MemberInfo.State.init))
                    await self?.fanOut(info)
                }
            })
    }

    /// `Service`: starts the node, runs until the service group shuts down gracefully or the task
    /// is cancelled, then leaves the cluster gracefully and stops (within a second).
    public func run() async throws {
        try await start()
        // Returns on graceful shutdown; throws on cancellation. Either way: leave and stop.
        try? await gracefulShutdown()
        // The leave must go out even when this task is cancelled: stop in a task of its own.
        await Task { await self.stop() }.value
    }

    /// Leaves the cluster (gracefully, unless told otherwise) and closes every socket. The
    /// node cannot be started again.
    public func stop(gracefully: Bool = true) async {
        guard !halted else { return }
        halted = true
        if let host { await host.shutdown(graceful: gracefully) }
        host = nil
        for pump in pumps { pump.cancel() }
        pumps = []
        eventSinks.finish()
        arrivalSinks.finish()
        changeSinks.finish()
        try? await group?.shutdownGracefully()
        group = nil
    }

    /// True between `start()` and `stop()`.
    public var isRunning: Bool { host != nil }

    /// This node's id (32 hex digits) and the address it announces, once started.
    public var id: String? { host?.id.description }
    public var address: String? { host?.address }

    // MARK: Membership

    /// Joins the cluster through `seeds` (`host:port`).
    public func join(seeds: [String]) async throws(BitDrizzleError) {
        await (try running()).join(seeds)
    }

    /// Joins through `seeds` and waits up to `timeout` for one of them to answer with the
    /// cluster's membership (an authenticated answer). Returns the members then in view, this node
    /// included. Throws `.noSeedAnswered` when none answered in time (the node keeps asking them), and
    /// `.cannotJoin` when every seed is this node's own address.
    @discardableResult
    public func join(seeds: [String], waitingUpTo timeout: Duration) async throws(BitDrizzleError) -> Int {
        let host = try running()
        let others = seeds.filter { $0 != host.address }
        guard !others.isEmpty else {
            throw .cannotJoin("\(seeds.joined(separator: ", ")) is this node's own address: give another node's")
        }
        await host.join(others)
        let deadline = ContinuousClock.now + timeout
        while await host.isJoining, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard await !host.isJoining else { throw .noSeedAnswered(others) }
        return await host.viewSize
    }

    /// Whether a node of this cluster answers at `address` (`host:port`) within `timeout`: its id
    /// (32 hex digits), or nil — nothing listens there, or something that is not a node whose
    /// certificate comes from a CA this node trusts. One signed datagram each way; it does not join.
    public func probe(address: String, timeout: Duration = .seconds(1)) async throws(BitDrizzleError) -> String? {
        await (try running()).greet(address, timeout: timeout)?.description
    }

    /// Announces a graceful leave (the node keeps running and can `join` again).
    public func leave() async throws(BitDrizzleError) {
        await (try running()).leave()
    }

    /// Every member this node knows, itself first.
    public func members() async throws(BitDrizzleError) -> [MemberInfo] {
        let host = try running()
        return [MemberInfo(await host.selfMember)] + (await host.members).map(MemberInfo.init)
    }

    /// The network size: the gossip estimate and the count in this node's view.
    public func size() async throws(BitDrizzleError) -> SizeInfo {
        let host = try running()
        return SizeInfo(estimate: await host.sizeEstimate?.size, membersInView: await host.viewSize)
    }

    /// What this node believes about its clock.
    public func clock() async throws(BitDrizzleError) -> ClockInfo {
        let host = try running()
        let estimate = await host.clockEstimate
        return ClockInfo(
            synchronisedNanoseconds: await host.synchronisedTime.nanoseconds, offsetNanoseconds: estimate.offsetNanoseconds,
            driftPPM: estimate.driftPPM, skewNanoseconds: estimate.skewNanoseconds, peersSampled: estimate.peersSampled,
            correctionNanoseconds: estimate.correctionNanoseconds, samples: estimate.samples,
            stratum: estimate.stratum == 255 ? nil : Int(estimate.stratum))
    }

    /// This node's certificate, CAs and revocation list, and how many live members hold each CA and
    /// each revocation-list version (from the status every node announces on start, on change and every 5 minutes).
    public func keyStatus() async throws(BitDrizzleError) -> KeyStatus {
        let host = try running()
        let report = await host.trustReport
        var trusting: [String: Int] = [:]
        var holding: [UInt64: Int] = [:]
        for status in report.alive.values {
            for authority in status.authorities { trusting[authority.description, default: 0] += 1 }
            holding[status.revocationVersion, default: 0] += 1
        }
        return KeyStatus(
            serial: KeyID(report.own.serial).description, notAfter: report.own.notAfter,
            authorities: report.own.authorities.map(\.description), revocationVersion: report.own.revocationVersion,
            aliveMembers: report.aliveCount, reporting: report.alive.count, membersTrusting: trusting,
            membersHoldingVersion: holding)
    }

    /// Membership changes from now on, as this node sees them; the sequence ends when the node stops.
    public func membershipChanges() -> AsyncStream<MembershipChange> {
        changeSinks.subscribe { [weak self] token in Task { await self?.dropChangeSink(token) } }
    }

    // MARK: Events

    /// Publishes an event: every live node delivers it once, in the same total order. A node that
    /// joined moments ago waits (up to 5 s) until it has stepped into the cluster's order.
    @discardableResult
    public func publish(topic: String, payload: [UInt8]) async throws(BitDrizzleError) -> Event {
        let host = try running()
        do {
            return Event(try await host.publish(topic: topic, payload: payload))
        } catch {
            throw BitDrizzleError(error)
        }
    }

    /// Publishes an event whose payload is `text` in UTF-8.
    @discardableResult
    public func publish(topic: String, text: String) async throws(BitDrizzleError) -> Event {
        try await publish(topic: topic, payload: Array(text.utf8))
    }

    /// Events from now on: by default delivered in the total order every node shares, once stable;
    /// with `.arrival`, each as soon as it arrives, in no common order (as Serf's user events). The
    /// sequence ends when the node stops. Ask before starting to miss none.
    public func events(_ delivery: EventDelivery = .totalOrder) -> AsyncStream<Event> {
        switch delivery {
        case .totalOrder: eventSinks.subscribe { [weak self] token in Task { await self?.dropEventSink(token) } }
        case .arrival: arrivalSinks.subscribe { [weak self] token in Task { await self?.dropArrivalSink(token) } }
        }
    }

    // MARK: Data

    /// Writes a file as pieces and a manifest to the ring (every piece on `data.replicas`
    /// nodes) or to this node's store only; returns the key to read it back with.
    /// `progress` hears bytes done of bytes in all as the write goes.
    public func write(
        file path: String, pieceSize: Int? = nil, scope: DataScope = .network,
        progress: (@Sendable (_ done: UInt64, _ total: UInt64) -> Void)? = nil
    ) async throws(BitDrizzleError) -> WriteResult {
        let client = DataClient(node: try running())
        let size = pieceSize ?? configuration.data.pieceSize
        do {
            let summary =
                scope == .network
                ? try await client.write(file: path, pieceSize: size, progress: progress)
                : try await client.writeLocally(file: path, pieceSize: size, progress: progress)
            return WriteResult(
                key: summary.manifestKey.description, bytes: summary.bytes, pieces: summary.pieces,
                replicas: summary.replicas, seconds: summary.seconds)
        } catch {
            throw BitDrizzleError(error)
        }
    }

    /// Reads a file back by its key, checking every piece's hash and the whole file's, into
    /// `folder` (default `<data.dir>/read`); returns where it was written.
    /// `progress` hears bytes done of bytes in all as the read goes.
    public func read(
        key: String, scope: DataScope = .network, into folder: String? = nil,
        progress: (@Sendable (_ done: UInt64, _ total: UInt64) -> Void)? = nil
    ) async throws(BitDrizzleError) -> ReadResult {
        let client = DataClient(node: try running())
        guard let id = NodeID(hex: key) else { throw .notAKey(key) }
        let destination = folder ?? Self.join(configuration.data.directory, "read")
        do {
            let summary =
                scope == .network
                ? try await client.read(id, into: destination, progress: progress)
                : try await client.readLocally(id, into: destination)
            return ReadResult(
                path: summary.path, bytes: summary.bytes, pieces: summary.pieces, repaired: summary.repaired,
                seconds: summary.seconds)
        } catch {
            throw BitDrizzleError(error)
        }
    }

    /// Deletes a file (manifest and pieces) from every replica, or from this node's store only.
    @discardableResult
    public func delete(key: String, scope: DataScope = .network) async throws(BitDrizzleError) -> DeleteResult {
        let client = DataClient(node: try running())
        guard let id = NodeID(hex: key) else { throw .notAKey(key) }
        do {
            let summary = try await scope == .network ? client.delete(id) : client.deleteLocally(id)
            return DeleteResult(keys: summary.keys, removed: summary.removed, keptShared: summary.keptShared)
        } catch {
            throw BitDrizzleError(error)
        }
    }

    /// Looks a key (32 hex digits) up on the ring: its owner, replicas and the hops it took.
    public func lookup(key: String) async throws(BitDrizzleError) -> LookupInfo {
        let host = try running()
        guard let id = NodeID(hex: key) else { throw .notAKey(key) }
        do {
            let found = try await host.lookup(id)
            return LookupInfo(
                owner: found.owner.id.description, ownerAddress: found.owner.address,
                replicas: found.replicas.map { ($0.id.description, $0.address) }, hops: found.hops)
        } catch {
            throw BitDrizzleError(error)
        }
    }

    // MARK: Internals

    private func running() throws(BitDrizzleError) -> NodeHost {
        if halted { throw .stopped }
        guard let host else { throw .notStarted }
        return host
    }

    private func checkCertificate() throws(BitDrizzleError) {
        let identity: (key: SigningKey, certificate: Certificate)
        do {
            identity = try KeyStore(directory: options.keysDirectory).identity(of: name)
        } catch {
            throw .cannotStart(error.description)
        }
        let now = Int64(Date().timeIntervalSince1970)
        if identity.certificate.notAfter <= now {
            throw .certificateExpired(name: name, notAfter: identity.certificate.notAfter)
        }
    }

    private func fanOut(_ event: Event) { eventSinks.yield(event) }
    private func fanOutArrival(_ event: Event) { arrivalSinks.yield(event) }
    private func fanOut(_ change: MembershipChange) { changeSinks.yield(change) }
    private func dropEventSink(_ token: Int) { eventSinks.remove(token) }
    private func dropArrivalSink(_ token: Int) { arrivalSinks.remove(token) }
    private func dropChangeSink(_ token: Int) { changeSinks.remove(token) }

    private static func join(_ folder: String, _ name: String) -> String {
        (folder.hasSuffix("/") ? String(folder.dropLast()) : folder) + "/" + name
    }
}

extension BitDrizzleNode {
    /// For development on one machine: makes sure `keysDirectory` holds a CA and a key and
    /// certificate for each of `names`, issuing what is missing and renewing the development keys
    /// it made before they expire (as the prompt's multi mode does; use `drizzle-keys` for a real
    /// cluster). Returns one line per thing it issued or renewed, and one for certificates it may
    /// not renew that expire within 30 days.
    @discardableResult
    public static func issueDevelopmentKeys(for names: [String], in keysDirectory: String) throws(BitDrizzleError) -> [String] {
        do {
            return try DevelopmentKeys.ensure(names, in: keysDirectory)
        } catch {
            throw .cannotStart(error.description)
        }
    }
}
