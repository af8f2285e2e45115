#include "upstream/balancer.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdlib>

namespace dcp::upstream {
namespace {

constexpr std::int64_t kFirstBucketUs = 32;
constexpr std::uint32_t kMinP95Samples = 20;
constexpr std::uint32_t kP95Every = 16;
constexpr std::uint32_t kRerankEvery = 64;
constexpr std::uint64_t kEagerRerankSamples = 8;
constexpr double kFailureAlpha = 0.1;
// A server failing every query counts as this many times slower (wp2's success weight).
constexpr double kFailurePenalty = 10;
// wp2 with the estimator: one query in this many goes to a server drawn at random, so that a
// server never picked (the worst of three loses every comparison) is still measured and can win
// its place back.
constexpr std::uint32_t kExploreEvery = 50;

}  // namespace

void LatencyEstimate::reseed(Micros rtt) {
    const auto r = std::max<std::int64_t>(rtt.count(), 1);
    srtt_ = r;
    rttvar_ = r / 2;
    histogram_.fill(0);
    in_histogram_ = 0;
    since_decay_ = 0;
    since_p95_ = 0;
    p95_cache_ = srtt_ + 4 * rttvar_;
}

std::size_t LatencyEstimate::bucket_of(Micros rtt) {
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(rtt.count(), 0));
    if (us < static_cast<std::uint64_t>(kFirstBucketUs)) return 0;
    const auto msb = static_cast<std::size_t>(std::bit_width(us) - 1);  // >= 5
    const auto quarter = static_cast<std::size_t>((us >> (msb - 2)) & 3U);
    return std::min(kBuckets - 1, 4 * (msb - 5) + quarter);
}

Micros LatencyEstimate::bucket_upper(std::size_t bucket) {
    const std::size_t octave = bucket / 4 + 5;
    const std::size_t quarter = bucket % 4;
    return Micros(static_cast<std::int64_t>((5 + quarter) << (octave - 2)));
}

void LatencyEstimate::add(Micros rtt) {
    const auto r = std::max<std::int64_t>(rtt.count(), 1);
    // RFC 6298's estimator (alpha 1/8, beta 1/4); the seed counts as the first sample.
    rttvar_ += (std::abs(srtt_ - r) - rttvar_) / 4;
    srtt_ += (r - srtt_) / 8;
    ++samples_;
    ++histogram_[bucket_of(rtt)];
    ++in_histogram_;
    if (++since_decay_ >= kDecayEvery) {
        since_decay_ = 0;
        in_histogram_ = 0;
        for (auto& c : histogram_) {
            c /= 2;
            in_histogram_ += c;
        }
    }
    if (++since_p95_ >= kP95Every || in_histogram_ <= kMinP95Samples) {
        since_p95_ = 0;
        recompute_p95();
    }
}

void LatencyEstimate::recompute_p95() {
    if (in_histogram_ < kMinP95Samples) {
        p95_cache_ = srtt_ + 4 * rttvar_;
        return;
    }
    // The bucket holding the sample with 5 % of the samples above it.
    const std::uint32_t above_allowed = in_histogram_ / 20;
    std::uint32_t above = 0;
    for (std::size_t b = kBuckets; b-- > 0;) {
        above += histogram_[b];
        if (above > above_allowed) {
            p95_cache_ = bucket_upper(b).count();
            return;
        }
    }
    p95_cache_ = bucket_upper(0).count();
}

Micros LatencyEstimate::p95() const {
    return Micros(p95_cache_);
}

std::optional<Strategy> parse_strategy(std::string_view text) {
    if (text == "wp2") return Strategy{Strategy::Kind::Wp2, 0};
    if (text == "p2") return Strategy{Strategy::Kind::P2, 0};
    if (text == "ph") return Strategy{Strategy::Kind::Ph, 0};
    if (text == "first") return Strategy{Strategy::Kind::First, 0};
    if (text == "random") return Strategy{Strategy::Kind::Random, 0};
    if (text.size() >= 2 && text[0] == 'p') {
        std::uint32_t n = 0;
        const auto digits = text.substr(1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec == std::errc{} && end == digits.data() + digits.size() && n >= 1) {
            return Strategy{Strategy::Kind::PN, n};
        }
    }
    return std::nullopt;
}

std::string to_string(Strategy s) {
    switch (s.kind) {
        case Strategy::Kind::Wp2:
            return "wp2";
        case Strategy::Kind::P2:
            return "p2";
        case Strategy::Kind::Ph:
            return "ph";
        case Strategy::Kind::PN: {
            // Appended, not "p" + ...: g++ 12 at -O3 warns (-Wrestrict) on that form.
            std::string out = "p";
            out += std::to_string(s.n);
            return out;
        }
        case Strategy::Kind::First:
            return "first";
        case Strategy::Kind::Random:
            return "random";
    }
    return "wp2";
}

Balancer::Balancer(BalancerSettings settings, std::size_t servers, RandomFn random)
    : settings_(settings),
      servers_(servers),
      random_(std::move(random)),
      tokens_(settings.hedge_burst) {
    ranking_.resize(servers);
    for (std::size_t i = 0; i < servers; ++i) ranking_[i] = static_cast<std::uint16_t>(i);
    scratch_.reserve(servers);
    rerank(true);
}

void Balancer::seed(std::size_t i, Micros rtt) {
    servers_[i].latency.reseed(rtt);
    rerank(true);  // the start-up ranking, by certificate round trip, even without the estimator
}

void Balancer::on_answer(std::size_t i, Micros rtt) {
    auto& s = servers_[i];
    s.latency.add(rtt);
    s.failure_rate *= 1 - kFailureAlpha;
    s.failures_in_a_row = 0;
    s.health = Health::Up;
    // Its first answers teach more than the certificate fetch did: rank at once.
    if (++since_rerank_ >= kRerankEvery || s.latency.samples() <= kEagerRerankSamples) {
        rerank(settings_.estimator);
    }
}

bool Balancer::on_failure(std::size_t i, SteadyTime now) {
    auto& s = servers_[i];
    ++s.failures;
    s.failure_rate = s.failure_rate * (1 - kFailureAlpha) + kFailureAlpha;
    ++s.failures_in_a_row;
    if (s.health == Health::Up && s.failures_in_a_row >= settings_.failures_to_down) {
        s.health = Health::Down;
        s.probe_interval = settings_.first_probe;
        s.next_probe = now + s.probe_interval;
        rerank(settings_.estimator);
        return true;
    }
    return false;
}

void Balancer::on_recovered(std::size_t i, Micros rtt) {
    // Back from down: what was learnt before says nothing about it now.
    auto& s = servers_[i];
    s.latency.reseed(rtt);
    s.failure_rate = 0;
    s.failures_in_a_row = 0;
    s.health = Health::Up;
    rerank(settings_.estimator);
}

void Balancer::on_probe_failure(std::size_t i, SteadyTime now) {
    auto& s = servers_[i];
    s.probe_interval = std::min(s.probe_interval * 2, settings_.max_probe_interval);
    s.next_probe = now + s.probe_interval;
}

double Balancer::score(std::size_t i) const {
    const auto& s = servers_[i];
    return static_cast<double>(s.latency.srtt().count()) * (1 + kFailurePenalty * s.failure_rate);
}

void Balancer::rerank(bool resort) {
    since_rerank_ = 0;
    if (resort) {
        // Insertion sort: stable, no allocation (std::stable_sort may take a buffer), and the
        // ranking is nearly sorted already.
        for (std::size_t i = 1; i < ranking_.size(); ++i) {
            const auto v = ranking_[i];
            const auto sv = score(v);
            std::size_t j = i;
            for (; j > 0 && score(ranking_[j - 1]) > sv; --j) ranking_[j] = ranking_[j - 1];
            ranking_[j] = v;
        }
    }
    std::optional<Micros> best;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (servers_[i].health != Health::Up) continue;
        const auto p = servers_[i].latency.p95();
        if (!best || p < *best) best = p;
    }
    best_p95_ = best.value_or(Micros(0));
}

std::optional<std::size_t> Balancer::choose(const std::function<bool(std::size_t)>& usable) {
    scratch_.clear();
    for (const auto i : ranking_) {
        if (servers_[i].health == Health::Up && usable(i)) scratch_.push_back(i);
    }
    if (scratch_.empty()) {  // every usable server is down: still better than no answer
        for (const auto i : ranking_) {
            if (usable(i)) scratch_.push_back(i);
        }
    }
    const auto n = static_cast<std::uint32_t>(scratch_.size());
    if (n == 0) return std::nullopt;
    if (n == 1) return scratch_[0];
    switch (settings_.strategy.kind) {
        case Strategy::Kind::First:
            return scratch_[0];
        case Strategy::Kind::P2:
            return scratch_[random_(std::min<std::uint32_t>(n, 2))];
        case Strategy::Kind::Ph:
            return scratch_[random_(std::max<std::uint32_t>(std::min<std::uint32_t>(n, 2), n / 2))];
        case Strategy::Kind::PN:
            return scratch_[random_(std::min<std::uint32_t>(n, settings_.strategy.n))];
        case Strategy::Kind::Random:
            return scratch_[random_(n)];
        case Strategy::Kind::Wp2: {
            if (settings_.estimator && ++since_explore_ >= kExploreEvery) {
                since_explore_ = 0;
                return scratch_[random_(n)];
            }
            // Two distinct candidates at random; the better one by latency and success.
            const auto a = random_(n);
            auto b = random_(n - 1);
            if (b >= a) ++b;
            return score(scratch_[b]) < score(scratch_[a]) ? scratch_[b] : scratch_[a];
        }
    }
    return scratch_[0];
}

std::optional<std::size_t> Balancer::next(const std::function<bool(std::size_t)>& usable,
                                          std::span<const std::uint16_t> tried) const {
    const auto untried = [&](std::uint16_t i) {
        return std::find(tried.begin(), tried.end(), i) == tried.end() && usable(i);
    };
    std::optional<std::size_t> down;
    std::optional<std::size_t> best;
    for (const auto i : ranking_) {
        if (!untried(i)) continue;
        if (servers_[i].health != Health::Up) {
            if (!down) down = i;
            continue;
        }
        if (!best || score(i) < score(*best)) best = i;
    }
    return best ? best : down;
}

Micros Balancer::hedge_delay(std::size_t i) const {
    // Another server is asked once this one is slower than the best server usually is: a server
    // slow one time in five has a high p95 of its own, which would never trigger.
    auto d = servers_[i].latency.p95();
    if (best_p95_.count() > 0) d = std::min(d, best_p95_);
    return std::max(d, settings_.hedge_floor);
}

Micros Balancer::failover_delay(std::size_t i) const {
    const auto d = servers_[i].latency.p95() * 4;
    return std::clamp(d, settings_.failover_floor,
                      std::max(settings_.failover_floor, settings_.timeout / 3));
}

}  // namespace dcp::upstream
