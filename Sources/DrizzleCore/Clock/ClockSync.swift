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
/// NTP-style exchanges ride on SWIM's probes: the prober stamps t1 on its ping, the target stamps
/// t2 (arrival) and t3 (answer) on its ack, the prober reads t4 on arrival. Each exchange gives an
/// offset θ = ((t2 − t1) + (t3 − t4)) / 2 and a delay δ = (t4 − t1) − (t3 − t2). The node keeps the
/// last `window` samples, uses the half with the lowest delay (their path asymmetry is smallest),
/// fits a line through "peer time minus my raw time" against my raw time (the slope is my drift
/// against the cluster, the intercept its offset), and corrects by slewing: the synchronised clock
/// is raw time plus a correction whose rate is the drift estimate plus a bounded slew toward the
/// offset. It never steps, so the synchronised clock never runs backwards.
///
/// `average` pulls every node halfway toward the members it samples, so the cluster converges on
/// a common time near the average of its clocks; `reference` follows the member with the lowest
/// stratum (the reference is stratum 0, its direct samplers 1, and so on, as in NTP).
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
        /// Samples kept.
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

        public init(
            mode: Mode = .average, isReference: Bool = false, window: Int = 16,
            updateIntervalNanoseconds: Int64 = 1_000_000_000, maximumSlew: Double = 0.1, gain: Double? = nil,
            minimumDriftSpanNanoseconds: Int64 = 8_000_000_000, maximumDrift: Double = 5e-4,
            sampleLifetimeNanoseconds: Int64 = 120_000_000_000
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
        }
    }

    /// One exchange's result, kept in the window.
    struct Sample: Sendable {
        var peer: NodeID
        /// Raw time at t4.
        var raw: Int64
        /// Peer's synchronised time minus this node's raw time at t4.
        var peerMinusRaw: Double
        var delay: Int64
        var stratum: UInt8
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

    /// Takes a peer's answer (t4 is now) into the window.
    public mutating func receive(_ answer: ClockMessage, from peer: NodeID, at raw: Instant) {
        guard case .answer(let t1, let t2, let t3, let peerStratum) = answer else { return }
        guard outstanding.removeValue(forKey: t1) != nil else {
            rejected += 1
            return
        }
        let t4 = time(at: raw).nanoseconds
        let delay = (t4 &- t1) &- (t3 &- t2)
        guard delay >= 0, delay < 10_000_000_000, t3 >= t2 else {
            rejected += 1
            return
        }
        exchanges += 1
        let offset = (Double(t2 &- t1) + Double(t3 &- t4)) / 2
        let sample = Sample(
            peer: peer, raw: raw.nanoseconds, peerMinusRaw: offset + correction(at: raw.nanoseconds), delay: delay,
            stratum: peerStratum)
        samples.append(sample)
        if samples.count > configuration.window { samples.removeFirst(samples.count - configuration.window) }
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

    /// The samples the estimate uses: the lowest-delay half, and in reference mode only those from
    /// the lowest stratum seen.
    private func usable() -> [Sample] {
        var chosen = samples
        if configuration.mode == .reference {
            let best = chosen.map(\.stratum).min() ?? 255
            chosen = best < 255 ? chosen.filter { $0.stratum == best } : []
        }
        guard chosen.count > 2 else { return chosen }
        let delays = chosen.map(\.delay).sorted()
        let median = delays[(delays.count - 1) / 2]
        return chosen.filter { $0.delay <= median }
    }

    /// Offset (target minus synchronised time, now) and, once samples span long enough, drift
    /// (the slope of peer-minus-raw against raw time).
    private func fit(at now: Int64) -> (offset: Double, drift: Double?)? {
        let chosen = usable()
        guard !chosen.isEmpty else { return nil }
        let xs = chosen.map { Double($0.raw &- now) }
        let ys = chosen.map(\.peerMinusRaw)
        let count = Double(chosen.count)
        let meanX = xs.reduce(0, +) / count
        let meanY = ys.reduce(0, +) / count
        var sxx = 0.0
        var sxy = 0.0
        for (x, y) in zip(xs, ys) {
            sxx += (x - meanX) * (x - meanX)
            sxy += (x - meanX) * (y - meanY)
        }
        let span = (xs.max() ?? 0) - (xs.min() ?? 0)
        var drift: Double?
        if chosen.count >= 4, span >= Double(configuration.minimumDriftSpanNanoseconds), sxx > 0 {
            let slope = sxy / sxx
            // Trust the slope only when the points lie close to the line (not while clocks still
            // differ by far more than the drift could explain).
            let residual = zip(xs, ys).map { x, y in abs(y - meanY - slope * (x - meanX)) }.max() ?? 0
            if residual < 5_000_000 { drift = min(configuration.maximumDrift, max(-configuration.maximumDrift, slope)) }
        }
        // Project each sample to now with the drift believed so far, then average.
        let slope = drift ?? frequency
        let target = meanY - slope * meanX
        return (target - correction(at: now), drift)
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

extension FrameType {
    /// Clock sample request riding on a probe: t1.
    public static let clockProbe: UInt8 = 0x60
    /// Clock sample answer riding on an ack: t1, t2, t3.
    public static let clockAnswer: UInt8 = 0x61
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
