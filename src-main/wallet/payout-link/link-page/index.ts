export { renderGonePage, renderLinkPage } from './page-html';
export { LINK_PAGE_STYLE } from './page-style';
