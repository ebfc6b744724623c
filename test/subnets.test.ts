import { describe, expect, it } from "vitest";
import { subnetLayout } from "../components/aws/subnets";

describe("subnetLayout", () => {
  it.each([
    ["10.40.0.0/16", 3, ["10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19"], ["10.40.192.0/21", "10.40.200.0/21", "10.40.208.0/21"]],
    ["10.50.0.0/16", 2, ["10.50.0.0/19", "10.50.32.0/19"], ["10.50.192.0/21", "10.50.200.0/21"]],
    ["172.16.0.0/20", 3, ["172.16.0.0/23", "172.16.2.0/23", "172.16.4.0/23"], ["172.16.12.0/25", "172.16.12.128/25", "172.16.13.0/25"]],
    ["10.0.0.0/16", 6, ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19", "10.0.128.0/19", "10.0.160.0/19"],
      ["10.0.192.0/21", "10.0.200.0/21", "10.0.208.0/21", "10.0.216.0/21", "10.0.224.0/21", "10.0.232.0/21"]],
  ])("%s over %i AZs", (cidr, azs, privateCidrs, publicCidrs) => {
    expect(subnetLayout(cidr, azs)).toEqual({ private: privateCidrs, public: publicCidrs });
  });

  it.each([
    ["10.0.0.0/16", 7, "subnetLayout: azCount must be an integer from 1 to 6; got 7"],
    ["10.0.0.0/16", 0, "subnetLayout: azCount must be an integer from 1 to 6; got 0"],
    ["10.0.0.0/24", 3, "subnetLayout: the VPC CIDR 10.0.0.0/24 is too small; use a /22 or larger (a /16 is the default)"],
    ["10.0.0.1/16", 3, 'subnetLayout: vpcCidr must be an IPv4 CIDR like 10.40.0.0/16; got "10.0.0.1/16"'],
  ])("rejects %s over %i AZs", (cidr, azs, message) => {
    expect(() => subnetLayout(cidr, azs)).toThrowError(message);
  });
});
