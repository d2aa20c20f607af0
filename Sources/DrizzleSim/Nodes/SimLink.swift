import DrizzleCore

extension EnvelopeLink where Address == Int {
    /// Opens `bytes` from simulator node `sender`, queueing the certificate exchange's replies;
    /// returns the envelope when it opened.
    mutating func open(
        _ bytes: [UInt8], from sender: Int, reliable: Bool, at now: Instant, effects: inout [SimEffect]
    ) -> OpenedEnvelope? {
        let received = receive(bytes, from: sender, reliable: reliable, at: now)
        for reply in received.replies { effects.append(.send(to: sender, bytes: reply, reliable: false)) }
        return received.envelope
    }

    /// Seals `frames` for simulator node `index` and queues the datagram (nothing when they do not fit).
    mutating func send(_ frames: [Frame], to index: Int, reliable: Bool, at now: Instant, effects: inout [SimEffect]) {
        guard let bytes = seal(frames, to: index, reliable: reliable, at: now) else { return }
        effects.append(.send(to: index, bytes: bytes, reliable: reliable))
    }
}
