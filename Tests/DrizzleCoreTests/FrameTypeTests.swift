import DrizzleCore
import Testing

@Suite("Frame types: one registry, one owner each")
struct FrameTypeTests {
    @Test("every frame type and every name is listed once, and each type's owner is the table's")
    func unique() {
        let types = FrameType.all.map(\.type)
        #expect(Set(types).count == types.count)
        #expect(Set(FrameType.all.map(\.name)).count == types.count)
        for entry in FrameType.all { #expect(FrameType.owner(of: entry.type) == entry.owner) }
        #expect(FrameType.owner(of: 0x00) == nil && FrameType.owner(of: 0xFF) == nil)
        // Every owner has at least one type.
        #expect(Set(FrameType.all.map(\.owner)) == Set(FrameType.Owner.allCases))
    }

    /// Whether some decoder other than `owner`'s accepts `frame`.
    func foreignDecoderAccepts(_ frame: Frame, owner: FrameType.Owner) -> [FrameType.Owner] {
        var accepted: [FrameType.Owner] = []
        if owner != .membership, MembershipMessage(frame: frame) != nil { accepted.append(.membership) }
        if owner != .ring, RingMessage(frame: frame) != nil { accepted.append(.ring) }
        if owner != .data, DataMessage(frame: frame) != nil { accepted.append(.data) }
        if owner != .gossip, GossipMessage(frame: frame) != nil { accepted.append(.gossip) }
        if owner != .size, SizeMessage(frame: frame) != nil { accepted.append(.size) }
        if owner != .clock, ClockMessage(frame: frame) != nil { accepted.append(.clock) }
        if owner != .heartbeatVector, HeartbeatVector(frame: frame) != nil { accepted.append(.heartbeatVector) }
        if owner != .eventRequest, EventRequest(frame: frame) != nil { accepted.append(.eventRequest) }
        return accepted
    }

    @Test("no decoder accepts a frame of a type another component owns, so routing by the table is what trying each decoder did")
    func decodersKeepToTheirTypes() {
        var random = SplitMix(seed: 11)
        for entry in FrameType.all {
            for length in [0, 1, 2, 8, 16, 33, 64, 200] {
                for _ in 0..<20 {
                    let body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                    let frame = Frame(type: entry.type, body: body)
                    let foreign = foreignDecoderAccepts(frame, owner: entry.owner)
                    #expect(foreign.isEmpty, "\(entry.name) decoded by \(foreign)")
                }
            }
        }
    }
}
