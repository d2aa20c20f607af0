public import DrizzleConfig
public import DrizzleCore
public import DrizzleCrypto
public import Logging
public import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// The runtime's own impairment stage for outgoing datagrams — delay, jitter, loss — for tests and
/// demos on kernels without netem (TOOLCHAIN.md). Off unless switched on (`drizzle agent --impair-…`).
public struct Impairment: Sendable, Equatable {
    public var delayMilliseconds: Double
    /// Uniform jitter: each datagram waits delay ± jitter.
    public var jitterMilliseconds: Double
    /// Probability of dropping a datagram, in [0, 1).
    public var loss: Double

    public init(delayMilliseconds: Double = 0, jitterMilliseconds: Double = 0, loss: Double = 0) {
        self.delayMilliseconds = max(0, delayMilliseconds)
        self.jitterMilliseconds = max(0, jitterMilliseconds)
        self.loss = min(0.99, max(0, loss))
    }

    public var isActive: Bool { delayMilliseconds > 0 || jitterMilliseconds > 0 || loss > 0 }
}

/// How to run one node.
public struct NodeOptions: Sendable {
    /// The node's name: its key and certificate are `<keys>/nodes/<name>.key|.crt`.
    public var name: String
    public var bindHost: String
    /// 0 picks a free port.
    public var bindPort: Int
    /// `host:port` peers should use when the bind address is not it.
    public var advertise: String?
    public var seeds: [String]
    public var keysDirectory: String
    public var membership: MembershipConfiguration
    /// Rumor mongering: when a node stops spreading a rumor, fanout, mode and transmit limit.
    public var rumorPolicy: RumorPolicy
    /// The gossip round period, and how often a round also runs anti-entropy with one peer.
    public var gossipIntervalMilliseconds: Int
    public var antiEntropyIntervalMilliseconds: Int
    public var datagramLimit: Int
    public var replayWindow: Int
    /// How often the core's timers are checked.
    public var tickMilliseconds: Int
    /// Delay, jitter and loss applied to this node's outgoing datagrams (off by default).
    public var impairment: Impairment
    /// Size estimation: settings every node of the cluster shares, push-sum instead of push-pull,
    /// and the length of one cycle.
    public var size: SizeSettings
    public var pushSum: Bool
    public var sizeCycleMilliseconds: Int
    /// The node keeps its pieces under `<dataDirectory>/<name>/`.
    public var dataDirectory: String
    /// On disk (under `storeDirectory`, durable) or in memory.
    public var store: StoreKind
    /// The ring: successor-list length = replication factor r, and its timers.
    public var ring: RingConfiguration
    /// The node's clock: an artificial offset and drift on top of the wall clock (experiments).
    public var clock: ClockModel
    /// How the node synchronises its clock with the cluster.
    public var clockSync: ClockSync.Configuration
    /// Sockets already bound to `bindHost:bindPort` (multi mode binds every node's before it
    /// starts any; see `PortReservation`). `nil`: the node binds its own.
    public var reservation: PortReservation?
    /// Shared by the nodes of one process to fold their certificate-expiry warnings into one
    /// line an hour; `nil` (the default): the node warns at start and hourly on its own.
    public var expiryWarnings: ExpiryWarnings?

    public init(
        name: String, bindHost: String = "127.0.0.1", bindPort: Int = 0, advertise: String? = nil, seeds: [String] = [],
        keysDirectory: String = "keys", dataDirectory: String = "data", store: StoreKind = .disk,
        membership: MembershipConfiguration = MembershipConfiguration(),
        rumorPolicy: RumorPolicy = DrizzleConfiguration.defaults.rumorPolicy,
        gossipIntervalMilliseconds: Int = DrizzleConfiguration.defaults.gossip.intervalMilliseconds,
        antiEntropyIntervalMilliseconds: Int = DrizzleConfiguration.defaults.gossip.antiEntropyIntervalMilliseconds,
        datagramLimit: Int = 1200, replayWindow: Int = 1024, tickMilliseconds: Int = 50,
        impairment: Impairment = Impairment(), size: SizeSettings = SizeSettings(), pushSum: Bool = false,
        sizeCycleMilliseconds: Int = 1000, ring: RingConfiguration = RingConfiguration(),
        clock: ClockModel = ClockModel(), clockSync: ClockSync.Configuration = ClockSync.Configuration()
    ) {
        self.name = name
        self.bindHost = bindHost
        self.bindPort = bindPort
        self.advertise = advertise
        self.seeds = seeds
        self.keysDirectory = keysDirectory
        self.membership = membership
        self.rumorPolicy = rumorPolicy
        self.gossipIntervalMilliseconds = max(1, gossipIntervalMilliseconds)
        self.antiEntropyIntervalMilliseconds = max(1, antiEntropyIntervalMilliseconds)
        self.datagramLimit = datagramLimit
        self.replayWindow = replayWindow
        self.tickMilliseconds = tickMilliseconds
        self.impairment = impairment
        self.size = size
        self.pushSum = pushSum
        self.sizeCycleMilliseconds = sizeCycleMilliseconds
        self.dataDirectory = dataDirectory
        self.store = store
        self.ring = ring
        self.clock = clock
        self.clockSync = clockSync
    }

    /// The folder of this node's pieces.
    public var storeDirectory: String {
        (dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory) + "/" + name
    }
}

/// Why a node could not start.
public enum NodeStartError: Error, CustomStringConvertible {
    case keys(KeyStore.Failure)
    /// Another node of this name runs on this data folder, or its lock file is unusable.
    case lock(NodeLock.Failure)
    /// The gossip port could not be bound; `tcp` when UDP took it and the TCP listener could not.
    case bind(NetworkError, tcp: Bool)
    case store(DiskPieceStore.Failure)

    /// True when the TCP listener could not take the UDP socket's port.
    var isTCPBind: Bool {
        if case .bind(_, let tcp) = self { return tcp }
        return false
    }

    public var description: String {
        switch self {
        case .keys(let failure): failure.description
        case .lock(let failure): failure.description
        case .store(let failure): failure.description
        case .bind(let failure, _): failure.description
        }
    }
}

/// One BitDrizzle node on real sockets: a UDP channel for gossip, a TCP server for reliable
/// messages, both feeding the sans-IO `NodeCore` in arrival order; its effects become writes.
public actor NodeHost {
    /// The node's own thread: its protocol work (including the disk store's group commits) runs
    /// there, so a node busy writing pieces never holds the threads other nodes' failure
    /// detectors and the runtime's sockets need.
    private nonisolated let thread = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private nonisolated let loop: any EventLoop

    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    deinit {
        // Nothing can call a released node any more: its thread may go.
        thread.shutdownGracefully(queue: .global()) { _ in }
    }
    public nonisolated let id: NodeID
    public nonisolated let address: String
    public nonisolated let name: String
    private var core: NodeCore<SigningKey, SodiumSuite>
    private var store: NodeStore
    /// This node's hold on its name in the data folder, released when it stops.
    private let lock: NodeLock
    private var lookupsWaiting: [UInt64: CheckedContinuation<LookupResult, any Error>] = [:]
    /// Data requests awaiting their answer: where each went, the event-loop timer that fails it at
    /// its timeout, and what to do with the answer or the failure.
    private var requestsWaiting:
        [UInt64: (address: String, timer: Scheduled<Void>, finish: (Result<DataMessage, any Error>) -> Void)] = [:]
    private var nextToken: UInt64 = 1
    /// Bumped whenever membership changes: cached owners may be stale.
    public private(set) var ringEpoch = 0
    /// Hops of the lookups this node started (the latest 1,000).
    public private(set) var recentHops: [Int] = []
    /// Owner ranges learned by `replicas(of:)`, valid until membership changes.
    private var owners = OwnerCache()
    private let group: any EventLoopGroup
    private var udp: any Channel
    private let tcp: any Channel
    /// Where the UDP socket is bound, to reopen it there.
    private let datagramBind: (host: String, port: Int)
    /// Times the UDP socket was reopened after a send error closed it (see `watchDatagramSocket`).
    public private(set) var datagramSocketReopened = 0
    private var connections: [String: any Channel] = [:]
    private var connecting: [String: [[UInt8]]] = [:]
    private let arrivals: AsyncStream<Arrival>.Continuation
    private let inboundDrops: InboundDrops
    /// The key folder, watched for a rotated key, a new bundle or revocation list.
    public nonisolated let keysDirectory: String
    private var keyFilesSeen: [String] = []
    private var nextKeyCheckAt = Instant(nanoseconds: 0)
    private var nextExpiryWarningAt = Instant(nanoseconds: 0)
    private var nextTrustAnnouncementAt = Instant(nanoseconds: 0)
    /// A node announces its trust status when it starts and whenever it changes; anti-entropy hands
    /// the newest to nodes that join later, so the periodic announcement is only a safety net.
    static let trustAnnouncementNanoseconds: Int64 = 300_000_000_000
    /// How often the key folder is checked for changes.
    public static let keyCheckIntervalNanoseconds: Int64 = 2_000_000_000
    private var tasks: [Task<Void, Never>] = []
    private var generator = SystemRandomNumberGenerator()
    private var logger: Logger
    private let expiryWarnings: ExpiryWarnings?
    private var stopped = false
    private let impairment: Impairment
    /// Datagrams the impairment stage dropped on purpose.
    public private(set) var impairedDrops = 0
    public private(set) var envelopesIn = 0
    /// Of `envelopesIn`, those that came as UDP datagrams.
    public private(set) var datagramsIn = 0
    public private(set) var envelopesOut = 0
    public private(set) var bytesIn = 0
    public private(set) var bytesOut = 0
    /// Prometheus metrics, refreshed every second while set.
    public nonisolated let metrics: NodeMetrics
    /// The folder of this node's disk store (tests damage pieces through it).
    public nonisolated let storeDirectory: String
    private var nextMetricsAt = Instant(nanoseconds: 0)
    private var recentChanges: [(at: Instant, member: Member, from: MemberState?)] = []
    /// The node's raw clock: the wall clock with the configured offset and drift.
    public nonisolated let clockModel: ClockModel
    private var subscribers = Broadcast<BusEvent>(buffer: 100_000)
    private var arrivalSubscribers = Broadcast<BusEvent>(buffer: 100_000)
    private var watchers = Broadcast<MemberChange>(buffer: 10_000)
    /// The latest delivered events, oldest first (at most `recentEventLimit`).
    public private(set) var recentEvents: [BusEvent] = []
    public let recentEventLimit = 1000

    /// Loads the node's identity from the key folder, binds its sockets and starts it.
    public static func start(_ options: NodeOptions, group: any EventLoopGroup, logger: Logger) async throws -> NodeHost {
        let store = KeyStore(directory: options.keysDirectory)
        let identity: (key: SigningKey, certificate: Certificate)
        let trust: TrustStore
        do {
            identity = try store.identity(of: options.name)
            trust = try store.trustStore()
        } catch {
            throw NodeStartError.keys(error)
        }
        // Before the store is opened or a socket bound: a second node of this name must change nothing.
        let lock: NodeLock
        do throws(NodeLock.Failure) {
            lock = try NodeLock.acquire(name: options.name, in: options.dataDirectory)
        } catch {
            throw NodeStartError.lock(error)
        }
        let pieces: NodeStore
        do throws(DiskPieceStore.Failure) {
            pieces = try NodeStore(kind: options.store, directory: options.storeDirectory)
        } catch {
            lock.release()
            throw NodeStartError.store(error)
        }
        let (stream, continuation) = AsyncStream<Arrival>.makeStream(bufferingPolicy: .bufferingNewest(100_000))
        let inboundDrops = InboundDrops()
        // UDP and TCP share one port. With port 0 the kernel picks the UDP one, which a TCP
        // connection may already use as its local port: then pick again.
        var sockets: (udp: any Channel, tcp: any Channel)?
        var failure: NodeStartError?
        for _ in 0..<(options.bindPort == 0 ? 20 : 1) {
            do throws(NodeStartError) {
                sockets = try await bindSockets(options, group: group, arrivals: continuation, drops: inboundDrops)
                break
            } catch {
                failure = error
                guard options.bindPort == 0, error.isTCPBind else { break }
            }
        }
        guard let (udp, tcp) = sockets else {
            lock.release()
            throw failure
                ?? NodeStartError.bind(
                    NetworkError(
                        purpose: .peers, endpoint: .address(HostPort(host: options.bindHost, port: options.bindPort)),
                        cause: .other("no port free for both UDP and TCP")), tcp: true)
        }
        let port = udp.localAddress?.port ?? options.bindPort
        let address = options.advertise ?? HostPort(host: options.bindHost, port: port).description
        var clock = options.clock
        clock.origin = WallClock.now()
        let now = clock.reading(at: clock.origin)
        let core = NodeCore(
            signer: identity.key, certificate: identity.certificate, trust: trust, suite: SodiumSuite(),
            address: address, epoch: UInt32(truncatingIfNeeded: now.unixSeconds), membership: options.membership,
            rumorPolicy: options.rumorPolicy,
            gossipIntervalNanoseconds: Int64(options.gossipIntervalMilliseconds) * 1_000_000,
            antiEntropyEveryRounds: max(1, options.antiEntropyIntervalMilliseconds / options.gossipIntervalMilliseconds),
            datagramLimit: options.datagramLimit, replayWindow: options.replayWindow, size: options.size,
            pushSum: options.pushSum, founding: options.seeds.isEmpty,
            sizeCycleNanoseconds: Int64(max(10, options.sizeCycleMilliseconds)) * 1_000_000, ring: options.ring,
            clock: options.clockSync, now: now)
        var nodeLogger = logger
        nodeLogger[metadataKey: "node"] = "\(options.name)"
        let host = NodeHost(
            core: core, store: pieces, lock: lock, name: options.name, address: address, group: group, udp: udp, tcp: tcp,
            arrivals: continuation, inboundDrops: inboundDrops, keysDirectory: options.keysDirectory, logger: nodeLogger,
            expiryWarnings: options.expiryWarnings, impairment: options.impairment, clock: clock)
        await host.launch(stream: stream, tickMilliseconds: options.tickMilliseconds)
        if !options.seeds.isEmpty {
            await host.join(options.seeds)
            // Say so, at the default log level, when no seed answers: a wrong --join or net.seeds
            // would otherwise leave a node alone in silence.
            Task { [weak host] in
                try? await Task.sleep(for: .seconds(3))
                await host?.warnIfStillJoining(options.seeds)
            }
        }
        return host
    }

    /// Binds the UDP socket, then the TCP listener on the same port.
    private static func bindSockets(
        _ options: NodeOptions, group: any EventLoopGroup, arrivals continuation: AsyncStream<Arrival>.Continuation,
        drops inboundDrops: InboundDrops
    ) async throws(NodeStartError) -> (udp: any Channel, tcp: any Channel) {
        let reserved = options.reservation?.take()
        let udp: any Channel
        do {
            udp = try await bindDatagram(
                host: options.bindHost, port: options.bindPort, group: group, arrivals: continuation, drops: inboundDrops,
                datagramLimit: options.datagramLimit, reserved: reserved?.datagram)
        } catch {
            let endpoint = NetworkError.Endpoint.address(HostPort(host: options.bindHost, port: options.bindPort))
            throw NodeStartError.bind(NetworkError(error, purpose: .peers, endpoint: endpoint), tcp: false)
        }
        let port = udp.localAddress?.port ?? options.bindPort
        let tcp: any Channel
        do {
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(FrameDecoder(maximumLength: EnvelopeHeader.streamLimit)))
                        try channel.pipeline.syncOperations.addHandler(StreamInbound(arrivals: continuation, drops: inboundDrops))
                    }
                }
            if let reserved {
                tcp = try await bootstrap.withBoundSocket(reserved.stream).get()
            } else {
                tcp = try await bootstrap.bind(host: options.bindHost, port: port).get()
            }
        } catch {
            try? await udp.close()
            if let reserved { close(reserved.stream) }
            let endpoint = NetworkError.Endpoint.address(HostPort(host: options.bindHost, port: port))
            throw NodeStartError.bind(NetworkError(error, purpose: .peers, endpoint: endpoint), tcp: true)
        }
        return (udp, tcp)
    }

    private static func bindDatagram(
        host: String, port: Int, group: any EventLoopGroup, arrivals continuation: AsyncStream<Arrival>.Continuation,
        drops inboundDrops: InboundDrops, datagramLimit: Int, reserved: Int32? = nil
    ) async throws -> any Channel {
        let bootstrap = DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.maxMessagesPerRead, value: 16)
            // One byte more than the largest datagram accepted: a datagram that fits is read whole
            // (SwiftNIO's default buffer would cut any above 2 KiB), and a longer one, cut to the
            // limit plus one byte, is still seen to be too long and counted as `oversize`.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: datagramLimit + 1))
            // 2 MiB, as memberlist asks (the kernel caps it at net.core.rmem_max): a burst
            // waits in the socket instead of being dropped before anything can count it.
            .channelOption(.socketOption(.so_rcvbuf), value: 2 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        DatagramInbound(arrivals: continuation, drops: inboundDrops, maximumLength: datagramLimit))
                }
            }
        if let reserved { return try await bootstrap.withBoundSocket(reserved).get() }
        return try await bootstrap.bind(host: host, port: port).get()
    }

    /// SwiftNIO closes a datagram channel when a send fails with anything but EMSGSIZE or
    /// EHOSTUNREACH: a member announcing an address the kernel refuses (a broadcast address:
    /// EACCES), or a route that discards (a blackhole route: EINVAL; no route: ENETUNREACH). The
    /// node would then go deaf and mute on UDP for good while TCP kept it half alive — after a
    /// partition made of blackhole routes, the chaos run's membership never settled. The socket is
    /// reopened on the same address instead.
    private func watchDatagramSocket() {
        let channel = udp
        channel.closeFuture.whenComplete { [weak self] _ in
            Task { await self?.datagramSocketClosed(channel) }
        }
    }

    private func datagramSocketClosed(_ channel: any Channel) async {
        guard !stopped, channel === udp else { return }
        logger.warning(
            "UDP socket closed by a failed send (an address the kernel refuses or cannot route); reopening it",
            metadata: ["address": "\(datagramBind.host):\(datagramBind.port)"])
        for _ in 0..<100 {
            if stopped { return }
            do {
                udp = try await Self.bindDatagram(
                    host: datagramBind.host, port: datagramBind.port, group: group, arrivals: arrivals, drops: inboundDrops,
                    datagramLimit: core.link.datagramLimit)
                datagramSocketReopened += 1
                watchDatagramSocket()
                return
            } catch {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        logger.error("UDP socket could not be reopened for 10 s; the node hears and speaks only over TCP: restart it")
    }

    private init(
        core: NodeCore<SigningKey, SodiumSuite>, store: NodeStore, lock: NodeLock, name: String, address: String,
        group: any EventLoopGroup,
        udp: any Channel, tcp: any Channel, arrivals: AsyncStream<Arrival>.Continuation, inboundDrops: InboundDrops,
        keysDirectory: String, logger: Logger, expiryWarnings: ExpiryWarnings?,
        impairment: Impairment, clock: ClockModel
    ) {
        self.impairment = impairment
        self.clockModel = clock
        self.metrics = NodeMetrics(node: name)
        self.core = core
        self.store = store
        self.lock = lock
        storeDirectory = store.directory
        self.id = core.me
        self.name = name
        self.address = address
        self.group = group
        loop = thread.next()
        self.udp = udp
        self.tcp = tcp
        datagramBind = (udp.localAddress?.ipAddress ?? "0.0.0.0", udp.localAddress?.port ?? 0)
        self.arrivals = arrivals
        self.inboundDrops = inboundDrops
        self.keysDirectory = keysDirectory
        self.logger = logger
        self.expiryWarnings = expiryWarnings
    }

    // MARK: Keys

    /// The serial of the certificate this node sends with.
    public var certificateSerial: UInt64 { core.certificate.serial }

    /// The version of the revocation list this node holds (0 for none).
    public var revocationVersion: UInt64 { core.link.opener.trust.revocations?.version ?? 0 }

    /// This node's certificate, CAs and revocation list, and the newest of each that the alive
    /// members announced (itself included).
    public var trustReport: (own: TrustStatus, alive: [NodeID: TrustStatus], aliveCount: Int) {
        let alive = Set(core.membership.members.filter { $0.state == .alive }.map(\.id)).union([id])
        var statuses: [NodeID: TrustStatus] = [:]
        for (node, entry) in core.trustStatuses where alive.contains(node) { statuses[node] = entry.status }
        statuses[id] = core.trustStatus
        return (core.trustStatus, statuses, alive.count)
    }

    /// Announces the trust status at start, at the tick after it changed (a reload, a revocation
    /// list learned by gossip), and every `trustAnnouncementNanoseconds` as a safety net.
    private func announceTrustIfDue(now: Instant) {
        guard nextTrustAnnouncementAt <= now else { return }
        nextTrustAnnouncementAt = now.advanced(byNanoseconds: Self.trustAnnouncementNanoseconds)
        perform(core.announceTrust(now: now))
    }

    /// The key folder's files this node uses: its key and certificate, the bundle, the revocation list.
    private nonisolated var keyFiles: [String] {
        let store = KeyStore(directory: keysDirectory)
        return [store.keyPath(of: name), store.certificatePath(of: name), store.bundlePath, store.revocationListPath]
    }

    /// Modification time and size of each key file ("" for a missing one).
    private nonisolated func keyFileStamps() -> [String] {
        keyFiles.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return "" }
            return "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_size)"
        }
    }

    /// Reloads the key folder: a rotated key and certificate (same node id) are used from the next
    /// envelope on, without leaving; a new bundle is trusted, authorities no longer in it are not;
    /// a newer revocation list is applied and spread. Returns what changed.
    @discardableResult
    public func reloadKeys() throws -> [String] {
        let store = KeyStore(directory: keysDirectory)
        let identity = try store.identity(of: name)
        let authorities = try store.trustedAuthorities()
        let revocations = SecureFile.exists(store.revocationListPath) ? try store.revocationList() : nil
        var changes: [String] = []
        if identity.certificate != core.certificate {
            let previous = core.certificate.serial
            try core.replaceIdentity(signer: identity.key, certificate: identity.certificate)
            changes.append(
                "certificate \(KeyStore.serialText(previous)) → \(KeyStore.serialText(identity.certificate.serial))")
        }
        let trustedBefore = Set(core.link.opener.trust.authorities.keys)
        let versionBefore = core.link.opener.trust.revocations?.version
        perform(core.updateTrust(authorities: authorities, revocations: revocations, now: now(), using: &generator))
        let trustedAfter = Set(core.link.opener.trust.authorities.keys)
        if trustedAfter != trustedBefore {
            changes.append("trusted CAs: \(trustedAfter.map(\.description).sorted().joined(separator: ", "))")
        }
        if let version = core.link.opener.trust.revocations?.version, version != versionBefore {
            changes.append("revocation list version \(version)")
        }
        for change in changes { logger.info("keys reloaded", metadata: ["change": "\(change)"]) }
        if !changes.isEmpty { nextTrustAnnouncementAt = Instant(nanoseconds: 0) }
        keyFilesSeen = keyFileStamps()
        return changes
    }

    /// Warns, at most once an hour, when this node's certificate expires within
    /// `KeyStore.expiringWindowSeconds` (30 days) or has expired; the metric
    /// `drizzle_certificate_expiry_seconds` shows the same at every scrape. Nodes sharing
    /// `ExpiryWarnings` warn together, in one line for all.
    private func warnIfExpiring(now: Instant) {
        if let expiryWarnings {
            let notAfter = core.certificate.notAfter
            guard let line = expiryWarnings.note(node: name, notAfter: notAfter, now: now) else { return }
            var processLogger = logger
            processLogger[metadataKey: "node"] = nil
            processLogger.warning("\(line)")
            return
        }
        let remaining = core.certificate.notAfter - now.unixSeconds
        guard remaining <= KeyStore.expiringWindowSeconds, nextExpiryWarningAt <= now else { return }
        nextExpiryWarningAt = now.advanced(byNanoseconds: 3_600_000_000_000)
        let serial = KeyStore.serialText(core.certificate.serial)
        let when = remaining < 0 ? "expired \(-remaining / 3600) h ago" : "expires in \(remaining / 3600) h"
        logger.warning(
            "certificate \(when): peers will drop this node's envelopes once it has expired; run `drizzle-keys rotate \(name)`",
            metadata: ["serial": "\(serial)", "not_after": "\(core.certificate.notAfter)"])
    }

    /// Reloads when a key file changed since the last look; a failed reload (files half copied,
    /// a key that does not match its certificate) is logged and tried again at the next change.
    private func watchKeyFiles(now: Instant) {
        guard nextKeyCheckAt <= now else { return }
        nextKeyCheckAt = now.advanced(byNanoseconds: Self.keyCheckIntervalNanoseconds)
        warnIfExpiring(now: now)
        let stamps = keyFileStamps()
        guard stamps != keyFilesSeen else { return }
        do {
            try reloadKeys()
        } catch {
            keyFilesSeen = stamps
            logger.warning("key folder changed but cannot be used", metadata: ["error": "\(error)"])
        }
    }

    private func launch(stream: AsyncStream<Arrival>, tickMilliseconds: Int) {
        logger.info("node started", metadata: ["id": "\(id)", "address": "\(address)"])
        keyFilesSeen = keyFileStamps()
        watchDatagramSocket()
        tasks.append(
            Task { [weak self] in
                for await arrival in stream {
                    guard let self else { return }
                    await self.handle(arrival)
                }
            })
        tasks.append(
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(tickMilliseconds))
                    guard let self else { return }
                    await self.tick()
                }
            })
    }

    // MARK: Commands

    /// Joins the cluster through `seeds` (`host:port`).
    public func join(_ seeds: [String]) {
        perform(core.join(seeds: seeds, now: now()))
    }

    private func warnIfStillJoining(_ seeds: [String]) {
        guard !stopped, core.membership.isJoining else { return }
        logger.warning(
            "no seed has answered the join after 3 s: nothing listens at \(seeds.joined(separator: ", ")), or it is not a node of this cluster (its certificate must come from a CA in bundle.crt); still asking every probe interval",
            metadata: ["seeds": "\(seeds.joined(separator: ","))"])
    }

    /// True while this node asked seeds to let it in and none has answered with the cluster's state.
    public var isJoining: Bool { core.membership.isJoining }

    /// The id of the node of this cluster that answers at `address` within `timeout` (a signed
    /// certificate exchange, `NodeCore.greet`), or nil: nothing listens there, or it is not a
    /// node whose certificate comes from a CA this node trusts.
    public func greet(_ address: String, timeout: Duration = .seconds(1)) async -> NodeID? {
        perform(core.greet(address, now: now()))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !stopped {
            if let answered = core.greetings[address], let id = answered {
                core.forgetGreeting(address)
                return id
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        core.forgetGreeting(address)
        return nil
    }

    /// Announces a graceful leave.
    public func leave() {
        perform(core.leave(now: now(), using: &generator))
    }

    /// Every member this node knows of, itself excluded.
    public var members: [Member] { core.membership.members }

    /// This node as it announces itself.
    public var selfMember: Member { core.membership.selfMember }

    /// Alive and suspect members plus itself.
    public var viewSize: Int { core.membership.viewSize }

    /// Rumors this node knows.
    public var knownRumors: Int { core.gossip.knownCount }

    /// The gossip estimate of the cluster's size (nil until one exists).
    public var sizeEstimate: SizeEstimate? { core.sizeEstimate }

    /// The estimate of the epoch running now, while it converges (nil when this node does not take
    /// part in it); `sizeEstimate` may still be an earlier epoch's result.
    public var runningSizeEstimate: SizeEstimate? { core.size.runningEstimate }

    /// This node's standing in the failure detector: its incarnation, Lifeguard's local health
    /// score (0 healthy; probe interval and timeout are multiplied by score + 1), how often it
    /// refuted a suspicion of itself, and how many suspicions its own failed probes raised.
    public var failureDetector: (incarnation: UInt64, health: Int, refutations: Int, suspicionsRaised: Int) {
        let membership = core.membership
        return (membership.incarnation, membership.health.score, membership.refutations,
            membership.suspicionsRaised.values.reduce(0, +))
    }

    /// Dropped envelopes by reason.
    /// Every drop: the core's, and the runtime's (garbage screened where it arrives, and arrivals
    /// while the queue was full).
    public var drops: DropCounters { core.link.opener.drops.adding(inboundDrops.snapshot) }

    /// The latest membership changes, oldest first.
    public var changes: [(at: Instant, member: Member, from: MemberState?)] { recentChanges }

    /// The node's raw clock now (wall clock plus the configured offset and drift).
    private func now() -> Instant { clockModel.reading(at: WallClock.now()) }

    // MARK: Bus and clock

    /// Publishes an event on the bus; it is delivered here and on every live node in one total order.
    /// A node that joined moments ago is still stepping into the cluster's order (or still waiting
    /// for a seed to let it in): then this waits (up to `patience`) until it may publish.
    @discardableResult
    public func publish(
        topic: String, payload: [UInt8], patience: Duration = .seconds(5)
    ) async throws(PublishError) -> BusEvent {
        let deadline = ContinuousClock.now + patience
        while !core.canPublish(at: now()), ContinuousClock.now < deadline, !stopped {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let effects = try core.publish(topic: topic, payload: payload, now: now(), using: &generator)
        var event: BusEvent?
        for case .learned(let rumor) in effects where rumor.kind == RumorKind.event {
            event = BusEvent(decoding: rumor.payload)
        }
        perform(effects)
        guard let event else { throw .notInStep }
        return event
    }

    /// Every event delivered from now on, in the total order. The stream ends when the node stops.
    public func events() -> AsyncStream<BusEvent> {
        subscribers.subscribe { [weak self] token in Task { await self?.unsubscribe(token) } }
    }

    /// Every event from now on as it arrives (this node's own at once), each once, in no common
    /// order: what Serf's user events give. The stream ends when the node stops.
    public func eventArrivals() -> AsyncStream<BusEvent> {
        arrivalSubscribers.subscribe { [weak self] token in Task { await self?.unsubscribeArrivals(token) } }
    }

    /// Every membership change from now on, as this node sees it. The stream ends when the node stops.
    public func memberChanges() -> AsyncStream<MemberChange> {
        watchers.subscribe { [weak self] token in Task { await self?.unwatch(token) } }
    }

    private func unsubscribe(_ token: Int) { subscribers.remove(token) }
    private func unsubscribeArrivals(_ token: Int) { arrivalSubscribers.remove(token) }
    private func unwatch(_ token: Int) { watchers.remove(token) }

    private func deliver(_ event: BusEvent) {
        recentEvents.append(event)
        if recentEvents.count > recentEventLimit + recentEventLimit / 10 {
            recentEvents.removeFirst(recentEvents.count - recentEventLimit)
        }
        subscribers.yield(event)
    }

    /// The bus's state: Lamport clock, stable time, pending and delivered counts.
    public var bus: EventOrder { core.bus }

    /// What this node believes about its clock (CK).
    public var clockEstimate: ClockEstimate { core.clock.estimate(at: now()) }

    /// This node's synchronised time now.
    public var synchronisedTime: Instant { core.time(at: now()) }

    /// Spreads a revocation list and enforces it here.
    public func publish(_ list: RevocationList) {
        perform(core.publish(list, now: now(), using: &generator))
    }

    /// Leaves gracefully, gives the announcement a moment to go out, then closes every socket.
    public func shutdown(graceful: Bool = true) async {
        guard !stopped else { return }
        stopped = true
        if graceful {
            leave()
            try? await Task.sleep(for: .milliseconds(150))
        }
        for task in tasks { task.cancel() }
        for waiting in lookupsWaiting.values { waiting.resume(throwing: DataError.stopped) }
        for waiting in requestsWaiting.values {
            waiting.timer.cancel()
            waiting.finish(.failure(DataError.stopped))
        }
        subscribers.finish()
        arrivalSubscribers.finish()
        watchers.finish()
        lookupsWaiting = [:]
        requestsWaiting = [:]
        arrivals.finish()
        for channel in connections.values { try? await channel.close() }
        connections = [:]
        try? await udp.close()
        try? await tcp.close()
        expiryWarnings?.forget(node: name)
        lock.release()
        logger.info("node stopped")
    }

    // MARK: Ring and data

    /// Looks `key` up on the ring: its owner, replicas and the hops it took.
    public func lookup(_ key: NodeID) async throws -> LookupResult {
        guard !stopped else { throw DataError.stopped }
        let token = takeToken()
        return try await withCheckedThrowingContinuation { continuation in
            lookupsWaiting[token] = continuation
            perform(core.lookup(key, token: token, now: now()))
        }
    }

    /// The r replicas of `key`, owner first, from the ranges earlier lookups learned while
    /// membership has not changed since; else a lookup, whose answer is remembered.
    public func replicas(of key: NodeID) async throws -> [RingPeer] {
        if let known = owners.replicas(of: key, epoch: ringEpoch) { return known }
        let epoch = ringEpoch
        let found = try await lookup(key)
        owners.remember(found, epoch: epoch)
        return found.replicas
    }

    /// Sends a data request to the node at `address` and waits for its answer (at most `timeout`).
    /// `make` builds the request around the id its answer will carry.
    public func request(
        to address: String, timeout: Duration = .seconds(10), _ make: (UInt64) -> DataMessage
    ) async throws -> DataMessage {
        guard !stopped else { throw DataError.stopped }
        let message = make(takeToken())
        if address == self.address {
            guard let reply = core.serveLocally(message, store: &store) else { throw DataError.noAnswer(address) }
            return reply
        }
        return try await withCheckedThrowingContinuation { continuation in
            send(message, to: address, timeout: timeout) { continuation.resume(with: $0) }
        }
    }

    /// Sends a data request to each of `addresses` at once (a write to every replica) and waits for
    /// all of them: each answer in the order of `addresses`, nil where none came within `timeout`.
    /// One wait for the lot, on the node's own event loop.
    public func requestEach(
        to addresses: [String], timeout: Duration = .seconds(10), _ make: (UInt64) -> DataMessage
    ) async -> [DataMessage?] {
        guard !stopped else { return addresses.map { _ in nil } }
        let gathered = Gathered(count: addresses.count)
        for (index, address) in addresses.enumerated() where address == self.address {
            gathered.finish(index, core.serveLocally(make(takeToken()), store: &store))
        }
        guard gathered.waiting > 0 else { return gathered.answers }
        return await withCheckedContinuation { continuation in
            gathered.continuation = continuation
            for (index, address) in addresses.enumerated() where address != self.address {
                send(make(takeToken()), to: address, timeout: timeout) { gathered.finish(index, try? $0.get()) }
            }
        }
    }

    /// Answers collected for `requestEach`, handed over when the last one is in (to the
    /// continuation, once it is set; before that `requestEach` reads `answers` itself).
    private final class Gathered {
        var answers: [DataMessage?]
        var waiting: Int
        var continuation: CheckedContinuation<[DataMessage?], Never>?

        init(count: Int) {
            answers = Array(repeating: nil, count: count)
            waiting = count
        }

        func finish(_ index: Int, _ answer: DataMessage?) {
            answers[index] = answer
            waiting -= 1
            if waiting == 0 { continuation?.resume(returning: answers) }
        }
    }

    /// Sends `message` and calls `finish` with its answer, or with a failure at `timeout`. The
    /// timeout is a timer on the event loop, cancelled by the answer: no task sleeps out the
    /// timeout of every request answered in a millisecond.
    private func send(
        _ message: DataMessage, to address: String, timeout: Duration,
        finish: @escaping (Result<DataMessage, any Error>) -> Void
    ) {
        let token = message.request
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let timer = loop.scheduleTask(in: .nanoseconds(nanoseconds)) { [weak self] () -> Void in
            Task { await self?.answered(token, .failure(DataError.noAnswer(address))) }
        }
        requestsWaiting[token] = (address, timer, finish)
        perform(core.request(message, to: address, now: now()))
    }

    /// Takes the request `token` off the waiting list, cancels its timer and hands it `result`;
    /// nothing when it is no longer waiting.
    private func answered(_ token: UInt64, _ result: Result<DataMessage, any Error>) {
        guard let waiting = requestsWaiting.removeValue(forKey: token) else { return }
        waiting.timer.cancel()
        waiting.finish(result)
    }

    /// The connection to `address` failed: requests waiting on it fail now rather than at their timeout.
    private func failRequests(to address: String) {
        for (token, waiting) in requestsWaiting where waiting.address == address {
            answered(token, .failure(DataError.noAnswer(address)))
        }
    }

    private func takeToken() -> UInt64 {
        defer { nextToken = (nextToken &+ 1) & ~Replication.tokenBit }
        return nextToken
    }

    /// Stores a blob in this node's own store only (`WL`); maintenance offers it to the ring.
    /// The blob is this node's only (`WL`): replica maintenance neither copies it to the ring
    /// nor drops it as surplus.
    public func storeLocally(_ blob: Blob) -> Bool {
        guard store.contains(blob.key) || store.write(blob.key, blob.bytes) else { return false }
        store.setLocalOnly(blob.key, true)
        core.noteLocalWrite(blob.key)
        return true
    }

    /// A blob of this node's own store (`RL`), as stored.
    public func readLocally(_ key: NodeID) -> [UInt8]? { store.read(key) }

    /// Removes a blob from this node's own store (`DL`); replicas elsewhere keep theirs.
    public func removeLocally(_ key: NodeID) -> Bool {
        guard store.contains(key) else { return false }
        store.remove(key)
        core.noteLocalRemoval()
        return true
    }

    /// How many blobs this node holds.
    public var storedCount: Int { store.count }

    /// Every key this node holds.
    public var storedKeys: [NodeID] { store.keys }

    /// This node's ring state.
    public var ring: ChordRing { core.ring }

    /// The rumor mongering this node runs: its policy, round period and anti-entropy rounds.
    public var gossip: (policy: RumorPolicy, intervalNanoseconds: Int64, antiEntropyEveryRounds: Int) {
        (core.gossip.policy, core.gossipIntervalNanoseconds, core.gossip.antiEntropyEveryRounds)
    }

    /// Replica maintenance counters.
    public var replication: Replication { core.replication }

    // MARK: Inputs

    private func handle(_ arrival: Arrival) {
        guard !stopped else { return }
        switch arrival {
        case .datagram(let bytes, let from), .frame(let bytes, let from):
            let isDatagram = if case .datagram = arrival { true } else { false }
            if isDatagram { datagramsIn += 1 }
            envelopesIn += 1
            bytesIn += bytes.count
            perform(core.receive(bytes, from: from, reliable: !isDatagram, now: now(), using: &generator, store: &store))
        }
    }

    private func tick() {
        guard !stopped else { return }
        let now = now()
        perform(core.tick(now: now, using: &generator, store: &store))
        watchKeyFiles(now: now)
        announceTrustIfDue(now: now)
        if nextMetricsAt <= now {
            nextMetricsAt = now.advanced(byNanoseconds: 1_000_000_000)
            metrics.record(
                NodeMetrics.Snapshot(
                    members: core.membership.members, drops: drops, envelopesIn: envelopesIn,
                    envelopesOut: envelopesOut, bytesIn: bytesIn, bytesOut: bytesOut, hotRumors: core.gossip.hotCount,
                    pendingUpdates: core.membership.pendingUpdates, impairedDrops: impairedDrops, bus: core.bus,
                    clock: core.clock.estimate(at: now),
                    certificateExpiresIn: core.certificate.notAfter - now.unixSeconds,
                    peerCertificateExpiresIn: core.link.opener.trust.soonestPeerExpiry.map { $0 - now.unixSeconds },
                    revocationVersion: revocationVersion, authorities: core.link.opener.trust.authorities.count))
        }
    }

    // MARK: Effects

    private func perform(_ effects: [NodeCore<SigningKey, SodiumSuite>.Effect]) {
        for effect in effects {
            switch effect {
            case .send(let to, let bytes, let reliable):
                envelopesOut += 1
                bytesOut += bytes.count
                if reliable { sendStream(bytes, to: to) } else { sendDatagram(bytes, to: to) }
            case .lookupFinished(let token, let result):
                guard let waiting = lookupsWaiting.removeValue(forKey: token) else { continue }
                switch result {
                case .success(let found):
                    recentHops.append(found.hops)
                    if recentHops.count > 1000 { recentHops.removeFirst(recentHops.count - 1000) }
                    waiting.resume(returning: found)
                case .failure(let failure):
                    waiting.resume(throwing: failure)
                }
            case .dataReply(let message, _):
                answered(message.request, .success(message))
            case .memberChanged(let member, let previous):
                ringEpoch += 1
                recentChanges.append((now(), member, previous))
                watchers.yield(MemberChange(member: member, previous: previous))
                if recentChanges.count > 1000 { recentChanges.removeFirst(recentChanges.count - 1000) }
                logger.info(
                    "member \(member.state)",
                    metadata: ["member": "\(member.id)", "address": "\(member.address)", "incarnation": "\(member.incarnation)"])
            case .learned(let rumor):
                logger.debug("rumor learned", metadata: ["rumor": "\(rumor.id)", "kind": "\(rumor.kind)"])
                if rumor.kind == RumorKind.event, let event = BusEvent(decoding: rumor.payload) {
                    arrivalSubscribers.yield(event)
                }
            case .revocationsUpdated(let list):
                logger.notice("revocation list applied", metadata: ["version": "\(list.version)"])
                nextTrustAnnouncementAt = Instant(nanoseconds: 0)  // tell the others at the next tick
            case .delivered(let event):
                deliver(event)
            }
        }
    }

    private func sendDatagram(_ bytes: [UInt8], to address: String) {
        guard let remote = Self.socketAddress(address) else {
            logger.debug("unusable address", metadata: ["address": "\(address)"])
            return
        }
        let datagram = AddressedEnvelope(remoteAddress: remote, data: udp.allocator.buffer(bytes: bytes))
        guard impairment.isActive else {
            udp.writeAndFlush(datagram, promise: nil)
            return
        }
        if impairment.loss > 0, Double.random(in: 0..<1, using: &generator) < impairment.loss {
            impairedDrops += 1
            return
        }
        let jitter = impairment.jitterMilliseconds > 0
            ? Double.random(in: -impairment.jitterMilliseconds...impairment.jitterMilliseconds, using: &generator) : 0
        let delay = TimeAmount.microseconds(Int64(max(0, impairment.delayMilliseconds + jitter) * 1000))
        let channel = udp
        channel.eventLoop.scheduleTask(in: delay) { channel.writeAndFlush(datagram, promise: nil) }
    }

    private func sendStream(_ bytes: [UInt8], to address: String) {
        if let channel = connections[address], channel.isActive {
            let written = channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
            written.whenFailure { _ in Task { await self.failRequests(to: address) } }
            return
        }
        // One connection per address: frames sent while it is being made wait for it, in order.
        if connecting[address] != nil {
            connecting[address]?.append(bytes)
            return
        }
        guard let remote = Self.socketAddress(address) else { return }
        connecting[address] = [bytes]
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(2))
            // An outgoing connection takes its local port from the kernel's ephemeral range, which
            // holds the multi-mode base ports (40000+). With SO_REUSEADDR its TIME_WAIT after a
            // close does not keep a node started within the next minute from binding that port
            // (MM, X, MM again): Linux lets a listener with SO_REUSEADDR bind over a TIME_WAIT
            // connection only when that connection had it too.
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                }
            }
        Task {
            do {
                let channel = try await bootstrap.connect(to: remote).get()
                self.connected(channel, to: address)
            } catch {
                self.connecting[address] = nil
                self.failRequests(to: address)
                self.logger.debug("connection failed", metadata: ["address": "\(address)", "error": "\(error)"])
            }
        }
    }

    private func connected(_ channel: any Channel, to address: String) {
        let queued = connecting.removeValue(forKey: address) ?? []
        if stopped {
            channel.close(promise: nil)
            return
        }
        if let old = connections[address], old !== channel { old.close(promise: nil) }
        connections[address] = channel
        for bytes in queued { channel.write(channel.allocator.buffer(bytes: bytes), promise: nil) }
        channel.flush()
    }

    /// `host:port` or `[v6]:port` with a numeric host, as a socket address.
    static func socketAddress(_ text: String) -> SocketAddress? {
        guard let address = try? HostPort(parsing: text, ports: 1...65535) else { return nil }
        return try? SocketAddress(ipAddress: address.host, port: address.port)
    }
}

extension NodeHost {
    /// True when the ring of `nodes` has settled: each node's successor list holds the next ids of
    /// `nodes` around the circle (as many as its successor list keeps), its predecessor is the
    /// previous one, and its membership view counts every node.
    public static func ringIsExact(_ nodes: [NodeHost]) async -> Bool {
        let ids = nodes.map(\.id).sorted()
        guard ids.count > 1 else { return true }
        for node in nodes {
            guard let index = ids.firstIndex(of: node.id) else { return false }
            let ring = await node.ring
            let count = min(ring.configuration.successorCount, ids.count - 1)
            let expected = (1...count).map { ids[(index + $0) % ids.count] }
            guard ring.successors.map(\.id) == expected,
                ring.predecessor?.id == ids[(index + ids.count - 1) % ids.count],
                await node.viewSize == ids.count
            else { return false }
        }
        return true
    }
}

/// The wall clock as the core's `Instant`.
public enum WallClock {
    public static func now() -> Instant {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Instant(nanoseconds: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }
}

/// One membership change: the member as it is now, and its state before (nil when it is new).
public struct MemberChange: Sendable, Hashable {
    public var member: Member
    public var previous: MemberState?
}
