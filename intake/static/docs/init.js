// Starts Swagger UI on the service's own OpenAPI document (no inline script, no CDN).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
});
