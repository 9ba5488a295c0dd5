// Starts Swagger UI on /docs (templates/swagger.html) with the settings FastAPI's own page
// uses, from a file because the page's Content-Security-Policy allows no inline script.
// A classic script after the vendored bundle, which defines window.SwaggerUIBundle.

const root = document.getElementById("swagger-ui");
window.ui = window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null, // no badge fetched from validator.swagger.io
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
});
