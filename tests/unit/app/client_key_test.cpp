#include "app/client_key.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "config/options.hpp"

namespace dcp::app {
namespace {

TEST(ClientKey, FromAFileOrFresh) {
    const std::string path = ::testing::TempDir() + "client.key";
    {
        std::ofstream f(path);
        f << "4041424344454647484950515253545556575859606162636465666768696a6b\n";
    }
    const auto a = load_client_keys(path);
    const auto b = load_client_keys(path);
    EXPECT_EQ(a.public_key, b.public_key);  // fixed key: same public key every start
    {
        std::ofstream f(path);
        f << "not a key";
    }
    EXPECT_THROW((void)load_client_keys(path), config::ConfigError);
    EXPECT_THROW((void)load_client_keys(::testing::TempDir() + "missing.key"), config::ConfigError);
    std::remove(path.c_str());
    const auto r1 = load_client_keys(std::nullopt);
    const auto r2 = load_client_keys(std::nullopt);
    EXPECT_NE(r1.public_key, r2.public_key);
}

}  // namespace
}  // namespace dcp::app
