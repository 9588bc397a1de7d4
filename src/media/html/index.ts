/**
 * HTML pages people look at, one escape function and one stylesheet for both:
 *   renderEvidencePack(input)        index.html on every staged medium (plans, payload evidence, signer)
 *   renderFleetPage(report, options) `cabferry report DIR --html FILE`
 */
export { escapeHtml } from './escape';
export { renderEvidencePack, type EvidencePackInput, type PayloadEvidence, type ManifestSigner } from './evidence-pack';
export { catalogEvidence, manifestSignerOf } from './evidence-sources';
export { renderFleetPage, writeFleetPage, type FleetPageOptions } from './fleet-page';
export { STYLESHEET } from './page';
