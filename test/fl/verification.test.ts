/** The verification reference (pure): the better of the global model and the median submission. */
import { expect } from "chai";
import { judge, referenceAccuracy } from "../../src/fl/verification";

describe("verification reference", () => {
  it("is the global model's accuracy when it is better than the median submission", () => {
    expect(referenceAccuracy(0.8, [0.7, 0.75, 0.1])).to.equal(0.8);
  });

  it("is the median submission when the global model is still near chance (round 1), so a sign-flipped model at chance is rejected", () => {
    const submissions = [0.62, 0.6, 0.09, 0.63, 0.61]; // four honest BS models and a sign-flipped one
    const ref = referenceAccuracy(0.1, submissions);
    expect(ref).to.equal(0.61);
    expect(judge(0.09, 0.1, 0.1).accepted, "against the global model alone it would pass").to.equal(true);
    expect(judge(0.09, ref, 0.1).accepted).to.equal(false);
    for (const honest of [0.62, 0.6, 0.63, 0.61]) expect(judge(honest, ref, 0.1).accepted).to.equal(true);
  });

  it("takes the mean of the middle two for an even count, and the global model when nothing was submitted", () => {
    expect(referenceAccuracy(0.1, [0.2, 0.6, 0.4, 0.9])).to.be.closeTo(0.5, 1e-12);
    expect(referenceAccuracy(0.3, [])).to.equal(0.3);
  });
});
