import DrizzleCore
import DrizzleSim
import Testing

@Suite("Simulator: the message bus's total order on the real core")
struct OrderSimulationTests {
    func experiment(
        nodes: Int = 30, publishers: Int = 6, events: Int = 200, rate: Double = 50, loss: Double = 0.05,
        seed: UInt64 = 1
    ) -> OrderExperiment {
        var setup = OrderExperiment()
        setup.nodes = nodes
        setup.publishers = publishers
        setup.events = events
        setup.ratePerSecond = rate
        setup.lossRate = loss
        setup.clockOffsetSeconds = 5
        setup.seed = seed
        setup.signed = false
        setup.timeoutSeconds = 120
        return setup
    }

    @Test("with 5% loss and clocks ±5 s apart every node delivers every event in the same order")
    func agreement() throws {
        let result = experiment().run()
        #expect(result.refusals.isEmpty, "\(result.refusals.first ?? "")")
        #expect(result.complete)
        #expect(result.datagramsLost > 0)
        #expect(result.agreeing == result.liveNodes)
        #expect(result.deliveredLow == 200 && result.deliveredHigh == 200)
        #expect(result.outOfOrder == 0)
        #expect(result.late == 0)
        // Physical timestamps from clocks seconds apart misorder far more pairs than Lamport time,
        // and by seconds rather than by the time an event takes to spread.
        #expect(result.physical.pairs > 5 * result.lamport.pairs, "physical \(result.physical) lamport \(result.lamport)")
        #expect(result.physical.largestGapSeconds > 1)
        #expect(result.lamport.largestGapSeconds < 1)
        let delivery = try #require(result.delivery)
        let arrival = try #require(result.arrival)
        #expect(delivery.p50 >= arrival.p50)
    }

    @Test("a publisher crashing mid-stream: the survivors still deliver one and the same sequence")
    func crashedPublisher() throws {
        var setup = experiment(seed: 2)
        setup.crashPublisher = true
        let result = setup.run()
        let crashed = try #require(result.crashed)
        #expect(result.liveNodes == 29)
        #expect(result.complete, "delivered \(result.deliveredLow)...\(result.deliveredHigh) of \(result.expected)")
        #expect(result.agreeing == result.liveNodes)
        #expect(result.outOfOrder == 0)
        #expect(result.publishedByCrashed > 0, "node \(crashed) published before it crashed")
        // Everything the live publishers sent is there; of the crashed one's, what reached a survivor.
        #expect(result.deliveredLow >= result.published - result.publishedByCrashed)
        #expect(result.deliveredLow <= result.published)
    }

    @Test("a 50/50 partition for 30 s: delivery waits on both sides, nothing crosses, and after healing all agree")
    func partition() throws {
        var setup = experiment(nodes: 20, publishers: 6, events: 300, rate: 10, loss: 0)
        setup.partition = (startSeconds: 5, durationSeconds: 30)
        let result = setup.run()
        #expect(result.refusals.isEmpty, "\(result.refusals.first ?? "")")
        // Neither half holds a majority, so neither delivers what was published after the cut
        // until the halves meet again; an event from the other side cannot even arrive.
        #expect(result.deliveredAcrossPartition == 0)
        #expect(result.deliveredDuringPartition == 0)
        #expect(result.outOfOrder == 0)
        // After the heal every node delivers the whole sequence, the same everywhere.
        #expect(result.complete)
        #expect(result.agreeing == 20)
        #expect(result.deliveredLow == 300 && result.deliveredHigh == 300)
        #expect(result.late == 0)
    }

    @Test("inversions are counted by merge sort: pairs out of order, 0 for a sorted sequence")
    func inversions() {
        #expect(OrderExperiment.inversions([]) == 0)
        #expect(OrderExperiment.inversions([1, 2, 3, 4]) == 0)
        #expect(OrderExperiment.inversions([4, 3, 2, 1]) == 6)
        #expect(OrderExperiment.inversions([2, 4, 1, 3, 5]) == 3)
        var random = SimRandom(seed: 9)
        let values = (0..<200).map { _ in Int64(random.next() % 50) }
        var brute = 0
        for i in values.indices { for j in values.indices where j > i && values[i] > values[j] { brute += 1 } }
        #expect(OrderExperiment.inversions(values) == brute)
    }
}
