/// How a node's clock differs from true time: a fixed offset and a rate error in parts per million.
/// Experiments and config (`clock.offset_ms`, `clock.drift_ppm`) set it on purpose; the runtime
/// and the simulator hand the core `reading(at:)` as the node's time.
public struct ClockModel: Hashable, Sendable {
    public var offsetNanoseconds: Int64
    public var driftPPM: Double
    /// Where drift is measured from (the node's start).
    public var origin: Instant

    public init(offsetNanoseconds: Int64 = 0, driftPPM: Double = 0, origin: Instant = Instant(nanoseconds: 0)) {
        self.offsetNanoseconds = offsetNanoseconds
        self.driftPPM = driftPPM
        self.origin = origin
    }

    /// The node's clock when true (or virtual) time is `base`.
    public func reading(at base: Instant) -> Instant {
        guard offsetNanoseconds != 0 || driftPPM != 0 else { return base }
        let elapsed = Double(base.nanoseconds &- origin.nanoseconds)
        return base.advanced(byNanoseconds: offsetNanoseconds &+ Int64((elapsed * driftPPM / 1e6).rounded()))
    }
}

/// What a node believes about its clock: `offset` is how far the cluster's time (or the
/// reference's) is ahead of this node's synchronised clock, `drift` how fast this node's raw clock
/// runs against it, `skew` the widest spread it sees among the members it sampled recently.
public struct ClockEstimate: Hashable, Sendable {
    /// Cluster (or reference) time minus this node's synchronised time, in nanoseconds.
    public var offsetNanoseconds: Int64
    /// This node's raw clock rate against the cluster's, in parts per million (positive: fast).
    public var driftPPM: Double
    /// The correction added to the raw clock now, in nanoseconds.
    public var correctionNanoseconds: Int64
    /// Largest difference between two synchronised clocks among this node and the members it
    /// sampled in the window, in nanoseconds.
    public var skewNanoseconds: Int64
    /// Members that contributed samples to the estimate.
    public var peersSampled: Int
    /// Samples in the window.
    public var samples: Int
    /// Distance from the reference in hops (0 on the reference); 255 when unknown or not in
    /// reference mode.
    public var stratum: UInt8
}

/// Clock synchronisation for one node, sans-IO.
///
/// NTP-style exchanges ride on SWIM's probes: the prober sends t1 on its ping, the target stamps
/// t2 (arrival) and t3 (answer) with its synchronised clock on its ack, and the prober reads its
/// raw clock at t4. Each exchange gives an offset θ = ((t2 − t1) + (t3 − t4)) / 2 and a delay
/// δ = (t4 − t1) − (t3 − t2), both taken against this node's *raw* clock (it remembers its raw
/// reading at t1), so a sample never depends on this node's own corrections. θ is wrong by half
/// the difference between the two one-way delays, at most δ/2, so samples with a short delay are
/// the good ones.
///
/// The node keeps the last `window` samples, "peer's synchronised time minus my raw time" at the
/// exchange's midpoint, and uses the half with the lowest delay. Through them it fits a line
/// against its raw time: the slope is its raw clock's rate error against the cluster (its drift),
/// the line's value now is the correction that would put it on the cluster's time. The fit must
/// hold every sample within `consistencyNanoseconds`: up to an eighth of the samples are left out
/// as outliers (a peer far off), the worst first, and beyond that the oldest (taken while the
/// cluster was still converging; in reference mode those of the highest stratum first) until the
/// newest ones agree. When fewer than four agree there is no fit: the offset is then the mean of
/// the newest four samples (of the lowest stratum), projected to now with the drift believed so
/// far. A slope is believed once the fitted samples span
/// `minimumDriftSpanNanoseconds`, and the drift estimate moves halfway to it each update.
///
/// Every `updateIntervalNanoseconds` the correction is recomputed and applied by slewing: the
/// synchronised clock is the raw time plus a correction whose rate is the drift estimate plus a
/// slew that removes `gain` × the offset within one update interval (at most `maximumSlew`). It
/// never steps, so the synchronised clock never runs backwards.
///
/// `average` pulls every node `gain` (½) of the way toward the members it samples each update,
/// so the cluster converges on a common time near the average of its clocks (gossip averaging);
/// `reference` follows one member fully (`gain` 1): the reference is stratum 0 and never corrects,
/// a node is one more than the lowest stratum among its samples (as in NTP), and its fit weighs
/// each sample by 1/8 per stratum above the lowest it holds (members that follow no reference,
/// stratum 255, never count). Its window keeps low-stratum samples in preference: when full, it
/// drops the oldest sample of the highest stratum, so the rare direct samples of the reference
/// stay for their whole lifetime.
public struct ClockSync: Sendable {
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// Estimate, but never correct.
        case off
        /// Converge on the cluster's average.
        case average
        /// Follow the reference node (stratum 0) through the lowest-stratum samples.
        case reference
    }

    public struct Configuration: Hashable, Sendable {
        public var mode: Mode
        /// This node is the reference in `reference` mode.
        public var isReference: Bool
        /// Samples kept (one arrives per probe, about one a second).
        public var window: Int
        /// How often the correction is recomputed.
        public var updateIntervalNanoseconds: Int64
        /// Largest slew rate, as a fraction (0.1: a second of error is gone in ten seconds).
        public var maximumSlew: Double
        /// Fraction of the estimated offset corrected per update (averaging's pull; 1 follows fully).
        public var gain: Double
        /// Drift is estimated only from samples spanning at least this long.
        public var minimumDriftSpanNanoseconds: Int64
        /// Largest drift correction believed, as a fraction (5e-4: 500 ppm).
        public var maximumDrift: Double
        /// Samples older than this are dropped.
        public var sampleLifetimeNanoseconds: Int64
        /// A sample further than this from the fitted line is left out of the fit.
        public var consistencyNanoseconds: Int64

        public init(
            mode: Mode = .average, isReference: Bool = false, window: Int = 64,
            updateIntervalNanoseconds: Int64 = 1_000_000_000, maximumSlew: Double = 0.1, gain: Double? = nil,
            minimumDriftSpanNanoseconds: Int64 = 16_000_000_000, maximumDrift: Double = 5e-4,
            sampleLifetimeNanoseconds: Int64 = 300_000_000_000, consistencyNanoseconds: Int64 = 2_000_000
        ) {
            self.mode = mode
            self.isReference = isReference
            self.window = max(4, window)
            self.updateIntervalNanoseconds = max(1, updateIntervalNanoseconds)
            self.maximumSlew = min(0.5, max(1e-6, maximumSlew))
            self.gain = min(1, max(0.01, gain ?? (mode == .reference ? 1.0 : 0.5)))
            self.minimumDriftSpanNanoseconds = max(1, minimumDriftSpanNanoseconds)
            self.maximumDrift = min(0.01, max(0, maximumDrift))
            self.sampleLifetimeNanoseconds = max(1, sampleLifetimeNanoseconds)
            self.consistencyNanoseconds = max(1, consistencyNanoseconds)
        }
    }

    /// One exchange's result, kept in the window.
    struct Sample: Sendable {
        var peer: NodeID
        /// Raw time at the exchange's midpoint, (t1 + t4) / 2.
        var raw: Int64
        /// Peer's synchronised time minus this node's raw time, at `raw`.
        var peerMinusRaw: Double
        var delay: Int64
        var stratum: UInt8
        /// Weight in the fit (reference mode: less for each stratum above the lowest).
        var weight = 1.0
    }

    /// What one update concluded.
    struct Fit {
        /// Target correction minus the correction now.
        var offset: Double
        /// Slope of peer-minus-raw against raw time, when the samples fit a line long enough.
        var drift: Double?
    }

    public let configuration: Configuration
    private var samples: [Sample] = []
    /// t1 values of probes still waiting for an answer, with the raw time they were sent.
    private var outstanding: [Int64: Int64] = [:]
    // The correction is piecewise linear in raw time: `phase` at `anchor`, then `frequency` plus
    // `slew` until `slewEnd`, then `frequency` alone.
    private var anchor: Int64
    private var phase: Double = 0
    private var frequency: Double = 0
    private var slew: Double = 0
    private var slewEnd: Int64
    private var nextUpdate: Int64
    private var lastOffset: Double = 0
    /// Exchanges answered, and answers refused (unknown t1, negative or huge delay).
    public private(set) var exchanges = 0
    public private(set) var rejected = 0

    public init(configuration: Configuration = Configuration(), now: Instant) {
        self.configuration = configuration
        anchor = now.nanoseconds
        slewEnd = now.nanoseconds
        nextUpdate = now.nanoseconds &+ configuration.updateIntervalNanoseconds
    }

    /// This node's stratum: 0 on the reference, one more than the best sampled peer otherwise.
    public var stratum: UInt8 {
        guard configuration.mode == .reference else { return 255 }
        if configuration.isReference { return 0 }
        let best = samples.map(\.stratum).min() ?? 255
        return best >= 254 ? 255 : best + 1
    }

    /// The correction added to the raw clock at raw time `raw`, in nanoseconds.
    func correction(at raw: Int64) -> Double {
        let elapsed = Double(raw &- anchor)
        let slewing = Double(max(0, min(raw, slewEnd) &- anchor))
        return phase + frequency * elapsed + slew * slewing
    }

    /// The synchronised time when the raw clock reads `raw`.
    public func time(at raw: Instant) -> Instant {
        raw.advanced(byNanoseconds: Int64(correction(at: raw.nanoseconds).rounded()))
    }

    // MARK: Exchanges

    /// The clock part of a probe sent now (t1).
    public mutating func probe(at raw: Instant) -> ClockMessage {
        let t1 = time(at: raw).nanoseconds
        if outstanding.count > 64 {
            outstanding = outstanding.filter { raw.nanoseconds &- $0.value < 10_000_000_000 }
        }
        outstanding[t1] = raw.nanoseconds
        return .probe(t1: t1, stratum: stratum)
    }

    /// The answer to a peer's probe that arrived now (t2 and t3 are the same instant here: the
    /// core answers while handling the arrival).
    public func answer(_ probe: ClockMessage, at raw: Instant) -> ClockMessage? {
        guard case .probe(let t1, _) = probe else { return nil }
        let now = time(at: raw).nanoseconds
        return .answer(t1: t1, t2: now, t3: now, stratum: stratum)
    }

    /// Takes a peer's answer (t4 is now) into the window. Answers to no outstanding probe, with a
    /// negative or implausible (10 s or more) delay, or with t3 before t2 are refused.
    public mutating func receive(_ answer: ClockMessage, from peer: NodeID, at raw: Instant) {
        guard case .answer(let t1, let t2, let t3, let peerStratum) = answer else { return }
        guard let sent = outstanding.removeValue(forKey: t1) else {
            rejected += 1
            return
        }
        let arrived = raw.nanoseconds
        let delay = (arrived &- sent) &- (t3 &- t2)
        guard delay >= 0, delay < 10_000_000_000, t3 >= t2 else {
            rejected += 1
            return
        }
        exchanges += 1
        // Against the raw clock: θ = ((t2 − t1) + (t3 − t4)) / 2 is the peer's time minus mine at
        // the midpoint of the exchange.
        let offset = (Double(t2 &- sent) + Double(t3 &- arrived)) / 2
        samples.append(
            Sample(
                peer: peer, raw: sent &+ (arrived &- sent) / 2, peerMinusRaw: offset, delay: delay,
                stratum: peerStratum))
        while samples.count > configuration.window { forgetOne() }
    }

    /// Drops the oldest sample; in reference mode the oldest of the highest stratum, so that the
    /// rare samples close to the reference stay for their whole lifetime.
    private mutating func forgetOne() {
        guard configuration.mode == .reference, let worst = samples.map(\.stratum).max(),
            let index = samples.firstIndex(where: { $0.stratum == worst })
        else {
            samples.removeFirst()
            return
        }
        samples.remove(at: index)
    }

    // MARK: Correction

    /// Recomputes the correction when an update is due.
    public mutating func tick(at raw: Instant) {
        let now = raw.nanoseconds
        guard now >= nextUpdate else { return }
        nextUpdate = now &+ configuration.updateIntervalNanoseconds
        samples.removeAll { now &- $0.raw > configuration.sampleLifetimeNanoseconds }
        // Re-anchor: the correction so far becomes the new phase.
        phase = correction(at: now)
        anchor = now
        slew = 0
        slewEnd = now
        guard let fit = fit(at: now) else { return }
        lastOffset = fit.offset
        guard configuration.mode != .off, !(configuration.mode == .reference && configuration.isReference) else { return }
        if let drift = fit.drift {
            frequency += 0.5 * (drift - frequency)
        }
        let pending = configuration.gain * fit.offset
        let interval = Double(configuration.updateIntervalNanoseconds)
        slew = min(configuration.maximumSlew, max(-configuration.maximumSlew, pending / interval))
        slewEnd = now &+ configuration.updateIntervalNanoseconds
    }

    /// The samples the estimate uses: the lowest-delay half of those in the window. In reference
    /// mode only samples of members that follow the reference (stratum below 255) count, the
    /// lowest-delay half of each stratum, weighted by 1/8 per stratum above the lowest.
    private func usable() -> [Sample] {
        guard configuration.mode == .reference else { return Self.lowestDelayHalf(samples) }
        let synced = samples.filter { $0.stratum < 255 }
        guard let best = synced.map(\.stratum).min() else { return [] }
        var chosen: [Sample] = []
        for stratum in Set(synced.map(\.stratum)).sorted() {
            for var sample in Self.lowestDelayHalf(synced.filter { $0.stratum == stratum }) {
                sample.weight = 1 / Double(UInt64(1) << (6 * min(UInt64(stratum - best), 10)))
                chosen.append(sample)
            }
        }
        return chosen
    }

    private static func lowestDelayHalf(_ samples: [Sample]) -> [Sample] {
        guard samples.count > 2 else { return samples }
        let delays = samples.map(\.delay).sorted()
        let median = delays[(delays.count - 1) / 2]
        return samples.filter { $0.delay <= median }
    }

    /// Offset (target minus the correction now) and, once samples fit a line over a long enough
    /// span, drift (the slope of peer-minus-raw against raw time).
    func fit(at now: Int64) -> Fit? {
        let chosen = usable()
        guard !chosen.isEmpty else { return nil }
        var points = chosen.sorted { $0.raw < $1.raw }
        var outliers = points.count / 8
        var drift: Double?
        var consistent = false
        while points.count >= 4 {
            let line = Self.line(through: points, at: now)
            if line.worstResidual <= Double(configuration.consistencyNanoseconds) {
                consistent = true
                if line.span >= Double(configuration.minimumDriftSpanNanoseconds), let slope = line.slope {
                    drift = min(configuration.maximumDrift, max(-configuration.maximumDrift, slope))
                }
                break
            }
            // A few samples far off are outliers; beyond those, the oldest samples predate the
            // cluster's convergence: fit the newest ones that agree (of the highest stratum
            // first: samples closer to the reference stay longest).
            if outliers > 0 {
                outliers -= 1
                points.remove(at: line.worstIndex)
            } else if let worst = points.map(\.stratum).max(), let oldest = points.firstIndex(where: { $0.stratum == worst }) {
                points.remove(at: oldest)
            }
        }
        let basis: [Sample]
        if consistent {
            basis = points
        } else {
            // Still converging: the newest four of the lowest stratum.
            let best = chosen.map(\.stratum).min() ?? 255
            basis = Array(chosen.filter { $0.stratum == best }.sorted { $0.raw < $1.raw }.suffix(4))
        }
        let slope = drift ?? frequency
        var sum = 0.0
        var weights = 0.0
        for sample in basis {
            sum += sample.weight * (sample.peerMinusRaw + slope * Double(now &- sample.raw))
            weights += sample.weight
        }
        let target = sum / weights
        return Fit(offset: target - correction(at: now), drift: drift)
    }

    /// Weighted least-squares line through `points` (peer-minus-raw against raw time, relative to `now`).
    private static func line(
        through points: [Sample], at now: Int64
    ) -> (slope: Double?, span: Double, worstResidual: Double, worstIndex: Int) {
        var weights = 0.0
        var meanX = 0.0
        var meanY = 0.0
        var low = Double.infinity
        var high = -Double.infinity
        for point in points {
            let x = Double(point.raw &- now)
            weights += point.weight
            meanX += point.weight * x
            meanY += point.weight * point.peerMinusRaw
            low = min(low, x)
            high = max(high, x)
        }
        meanX /= weights
        meanY /= weights
        var sxx = 0.0
        var sxy = 0.0
        for point in points {
            let dx = Double(point.raw &- now) - meanX
            sxx += point.weight * dx * dx
            sxy += point.weight * dx * (point.peerMinusRaw - meanY)
        }
        let slope = sxx > 0 ? sxy / sxx : nil
        var worst = 0.0
        var worstIndex = 0
        for (index, point) in points.enumerated() {
            let residual = abs(point.peerMinusRaw - meanY - (slope ?? 0) * (Double(point.raw &- now) - meanX))
            if residual > worst {
                worst = residual
                worstIndex = index
            }
        }
        return (slope, high - low, worst, worstIndex)
    }

    // MARK: Reporting

    /// What this node believes now (see `ClockEstimate`).
    public func estimate(at raw: Instant) -> ClockEstimate {
        let now = raw.nanoseconds
        let correctionNow = correction(at: now)
        // Each peer's latest sample, projected to now: its clock minus mine.
        var latest: [NodeID: Sample] = [:]
        for sample in samples where latest[sample.peer].map({ $0.raw < sample.raw }) ?? true {
            latest[sample.peer] = sample
        }
        var low = 0.0
        var high = 0.0
        for sample in latest.values {
            let offset = sample.peerMinusRaw + frequency * Double(now &- sample.raw) - correctionNow
            low = min(low, offset)
            high = max(high, offset)
        }
        let offset = fit(at: now)?.offset ?? lastOffset
        return ClockEstimate(
            offsetNanoseconds: Int64(offset.rounded()), driftPPM: -frequency * 1e6,
            correctionNanoseconds: Int64(correctionNow.rounded()), skewNanoseconds: Int64((high - low).rounded()),
            peersSampled: latest.count, samples: samples.count, stratum: stratum)
    }
}

/// The clock part of a probe and of its ack (NTP's four timestamps, minus the one read on arrival).
public enum ClockMessage: Hashable, Sendable {
    case probe(t1: Int64, stratum: UInt8)
    case answer(t1: Int64, t2: Int64, t3: Int64, stratum: UInt8)

    public var frame: Frame {
        var writer = ByteWriter()
        switch self {
        case .probe(let t1, let stratum):
            writer.write(t1)
            writer.write(stratum)
            return Frame(type: FrameType.clockProbe, body: writer.finish())
        case .answer(let t1, let t2, let t3, let stratum):
            writer.write(t1)
            writer.write(t2)
            writer.write(t3)
            writer.write(stratum)
            return Frame(type: FrameType.clockAnswer, body: writer.finish())
        }
    }

    public init?(frame: Frame) {
        var reader = ByteReader(frame.body)
        switch frame.type {
        case FrameType.clockProbe:
            guard let t1 = reader.readInt64(), let stratum = reader.readUInt8() else { return nil }
            self = .probe(t1: t1, stratum: stratum)
        case FrameType.clockAnswer:
            guard let t1 = reader.readInt64(), let t2 = reader.readInt64(), let t3 = reader.readInt64(),
                let stratum = reader.readUInt8()
            else { return nil }
            self = .answer(t1: t1, t2: t2, t3: t3, stratum: stratum)
        default:
            return nil
        }
        guard reader.isAtEnd else { return nil }
    }
}
