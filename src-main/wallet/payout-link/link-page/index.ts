export { renderGonePage, renderLinkPage, LINK_PAGE_SCRIPT_PATH, LINK_PAGE_STYLE_PATH } from './page-html';
export type { LinkPageConfig } from './page-html';
export { LINK_PAGE_SCRIPT } from './page-script';
export { LINK_PAGE_STYLE } from './page-style';
