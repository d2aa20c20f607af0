import DrizzleCore

/// Every decoder a frame from a peer can reach, with the round-trip property each must keep:
/// a message that decodes re-encodes to a frame that decodes to the same message. Input: one
/// type byte, then the body.
enum MessageDecoders {
    static func run(_ input: [UInt8]) -> FuzzTarget.Outcome {
        guard let type = input.first else { return .rejected }
        return decodeAll(Frame(type: type, body: Array(input.dropFirst())))
    }

    /// Tries `frame` with every decoder (each ignores types it does not own), and the payload
    /// decoders (bus events, manifests, revocation lists) on the body and on every rumor it carries.
    static func decodeAll(_ frame: Frame) -> FuzzTarget.Outcome {
        let results: [FuzzTarget.Outcome?] = [
            roundTrip(frame, MembershipMessage.init(frame:), \.frame),
            roundTrip(frame, GossipMessage.init(frame:), \.frame),
            roundTrip(frame, SizeMessage.init(frame:), \.frame),
            roundTrip(frame, RingMessage.init(frame:), \.frame),
            roundTrip(frame, DataMessage.init(frame:), \.frame),
            roundTrip(frame, ClockMessage.init(frame:), \.frame),
            roundTrip(frame, HeartbeatVector.init(frame:), \.frame),
            roundTrip(frame, EventRequest.init(frame:), \.frame),
        ]
        var payloads = [frame.body]
        if let gossip = GossipMessage(frame: frame) { payloads += rumors(in: gossip).map(\.payload) }
        var outcomes = results.compactMap { $0 }
        for payload in payloads { outcomes += decodePayload(payload) }
        if let broken = outcomes.first(where: { if case .broken = $0 { true } else { false } }) { return broken }
        return outcomes.isEmpty ? .rejected : .accepted
    }

    private static func decodePayload(_ bytes: [UInt8]) -> [FuzzTarget.Outcome] {
        [
            roundTrip(bytes, BusEvent.init(decoding:), \.encoded),
            roundTrip(bytes, { try? Manifest(decoding: $0) }, \.encoded),
            roundTrip(bytes, { try? RevocationList(decoding: $0) }, \.encoded),
            roundTrip(bytes, { try? Certificate(decoding: $0) }, \.encoded),
        ].compactMap { $0 }
    }

    private static func rumors(in message: GossipMessage) -> [Rumor] {
        switch message {
        case .rumors(let rumors, _, _), .repair(let rumors), .eager(let rumors): rumors
        case .feedback, .digest: []
        }
    }

    /// nil when `decode` refuses `input`; `.accepted` when the decoded value survives encoding and
    /// decoding again; `.broken` naming the type when it does not.
    static func roundTrip<Input, Message: Equatable>(
        _ input: Input, _ decode: (Input) -> Message?, _ encode: (Message) -> Input
    ) -> FuzzTarget.Outcome? {
        guard let message = decode(input) else { return nil }
        guard decode(encode(message)) == message else {
            return .broken("\(Message.self) does not survive re-encoding: \(message)")
        }
        return .accepted
    }

    /// One frame per message type, as a small cluster really sends them (from `NodeTarget`'s
    /// recorded exchange).
    static var sampleFrames: [Frame] {
        var seen: Set<[UInt8]> = []
        var frames: [Frame] = []
        for frame in NodeTarget.recordedExchange.flatMap(\.frames) {
            // One of each type and leading body byte (the message kind inside the type).
            let kind = [frame.type] + frame.body.prefix(1)
            if seen.insert(kind).inserted { frames.append(frame) }
        }
        return frames
    }

    static var seeds: [[UInt8]] { sampleFrames.map { [$0.type] + $0.body } }
}
